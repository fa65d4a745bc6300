import supertest from 'supertest';
import { createHealthApp, delayMs, runtimeFigures } from '@analytics/common';
import { listenAppServer, type ListeningAppServer } from '@analytics/testkit';

const RUNTIME_FIGURES = [
  'rss_bytes',
  'heap_used_bytes',
  'event_loop_delay_p50_ms',
  'event_loop_delay_p99_ms',
  'event_loop_delay_max_ms',
] as const;
type Runtime = Record<(typeof RUNTIME_FIGURES)[number], number>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// How long an idle loop really waits is a timing, measured in bench/ (each stage reads /health); here only
// the arithmetic that turns the histogram's samples into figures, which a test can pin exactly.
describe('event-loop delay figures', () => {
  it('when a sample is the 10 ms sampling interval plus a delay, then only the delay is reported, in ms', () => {
    expect(delayMs(10_000_000)).toBe(0);
    expect(delayMs(10_100_000)).toBe(0.1);
    expect(delayMs(25_000_000)).toBe(15);
    expect(delayMs(90_123_456)).toBe(80.12);
  });

  it('when a sample is shorter than the interval (the first tick), then the delay is 0, never negative', () => {
    expect(delayMs(4_000_000)).toBe(0);
  });

  it('when figures are reported, then they come from the histogram and the histogram is reset for the next window', () => {
    const samples: Record<number, number> = { 50: 10_200_000, 99: 12_000_000 };
    let resets = 0;
    const histogram = {
      percentile: (p: number) => samples[p]!,
      max: 40_000_000,
      reset: () => {
        resets += 1;
      },
    };
    expect(runtimeFigures(histogram)).toMatchObject({
      event_loop_delay_p50_ms: 0.2,
      event_loop_delay_p99_ms: 2,
      event_loop_delay_max_ms: 30,
    });
    expect(resets).toBe(1);
  });
});

describe('GET /health runtime figures', () => {
  let listening: ListeningAppServer;
  beforeAll(async () => {
    listening = await listenAppServer(createHealthApp({}));
  });
  afterAll(() => listening.close());

  /** Each report covers the time since the previous one. */
  const runtime = async () =>
    (await supertest(listening.server).get('/health').expect(200)).body.runtime as Runtime;

  it('when reported, then every runtime figure is a finite number of its own unit', async () => {
    const figures = await runtime();
    expect(Object.keys(figures).sort()).toEqual([...RUNTIME_FIGURES].sort());
    for (const key of RUNTIME_FIGURES) expect(Number.isFinite(figures[key])).toBe(true);
  });

  it('when the event loop was blocked for 80 ms, then the maximum delay shows it', async () => {
    await runtime();
    await pause(30);
    const until = Date.now() + 80;
    while (Date.now() < until) {
      // blocks the event loop on purpose
    }
    await pause(30);
    const blocked = await runtime();
    expect(blocked.event_loop_delay_max_ms).toBeGreaterThanOrEqual(60);
  });
});
