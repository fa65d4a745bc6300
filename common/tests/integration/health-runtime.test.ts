import supertest from 'supertest';
import { createHealthApp } from '@analytics/common';
import { listenAppServer, type ListeningAppServer } from '@analytics/common/testing';

interface Runtime {
  event_loop_delay_p99_ms: number;
  event_loop_delay_max_ms: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /health runtime figures', () => {
  let listening: ListeningAppServer;
  beforeAll(async () => {
    listening = await listenAppServer(createHealthApp({}));
  });
  afterAll(() => listening.close());

  /** Each report covers the time since the previous one. */
  const runtime = async () =>
    (await supertest(listening.server).get('/health').expect(200)).body.runtime as Runtime;

  it('when the event loop was idle, then the delay is near 0, not the 10 ms sampling interval', async () => {
    await runtime();
    await pause(300);
    const idle = await runtime();
    expect(idle.event_loop_delay_p99_ms).toBeGreaterThanOrEqual(0);
    // every raw sample is at least the 10 ms interval; real delays on an idle loop stay well under it
    expect(idle.event_loop_delay_p99_ms).toBeLessThan(10);
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
