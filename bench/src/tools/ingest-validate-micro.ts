import { validateWith } from '@analytics/common';
import { validateBatch, validateSingleEvent } from 'ingestion_service/dist/validations/event-fast-check';
import { batchSchema, singleEventSchema } from 'ingestion_service/dist/validations/event.validation';
import { pageView } from '../fixtures';

/**
 * `npx tsc -b && node bench/dist/tools/ingest-validate-micro.js`: the CPU cost of validating POST /event's
 * and POST /events' bodies with Joi alone and with the hand-checked fast path in front of it, on the
 * bench's page view (alone, and 100 in a batch). A rough figure for one core, not a benchmark of the service.
 */
/** CPU time (user + system) per call, the median of 7 rounds: another process may share the cores. */
function measure(name: string, iterations: number, step: (i: number) => unknown): void {
  for (let i = 0; i < Math.min(iterations, 5000); i += 1) step(i); // warm up
  const rounds: number[] = [];
  for (let round = 0; round < 7; round += 1) {
    const started = process.cpuUsage();
    for (let i = 0; i < iterations; i += 1) step(i);
    const { user, system } = process.cpuUsage(started);
    rounds.push((user + system) / iterations);
  }
  const micros = rounds.sort((a, b) => a - b)[3]!;
  const opsPerSecond = Math.round(1e6 / micros).toLocaleString('en');
  console.log(`${name.padEnd(40)} ${micros.toFixed(2).padStart(9)} µs/op ${opsPerSecond.padStart(12)} ops/s`);
}

/** Bodies as the server sees them: parsed from the JSON the bench sends, so they are plain objects. */
const asParsed = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const events = Array.from({ length: 64 }, (_, i) => asParsed(pageView('bench-site', i)));
const batches = Array.from({ length: 8 }, (_, b) =>
  asParsed({ events: Array.from({ length: 100 }, (_, i) => pageView('bench-site', b * 100 + i)) }),
);

console.log(`node ${process.version}`);
measure('POST /event body, Joi', 50_000, (i) => validateWith(singleEventSchema, events[i % 64]));
measure('POST /event body, fast path', 500_000, (i) => validateSingleEvent(events[i % 64]));
measure('POST /events, 100 events, Joi', 500, (i) => validateWith(batchSchema, batches[i % 8]));
measure('POST /events, 100 events, fast path', 10_000, (i) => validateBatch(batches[i % 8]));
