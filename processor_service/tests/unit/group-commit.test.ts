import { AdaptiveBatchLimit } from '../../src/services/adaptive-batch-limit.service';
import { GroupCommit } from '../../src/services/group-commit.service';

function limit(initial: number, max = 1000, targetMs = 1000): AdaptiveBatchLimit {
  return new AdaptiveBatchLimit({ initial, max, targetMs });
}

/** A group commit whose first write times out and whose later writes succeed; records each write's size. */
function failingFirstWrite(initialLimit: number): { writer: GroupCommit<number>; sizes: number[] } {
  const sizes: number[] = [];
  let failNext = true;
  const writer = new GroupCommit<number>(async (items) => {
    sizes.push(items.length);
    if (failNext) {
      failNext = false;
      throw new Error('timed out');
    }
  }, limit(initialLimit));
  return { writer, sizes };
}

describe('GroupCommit', () => {
  it('when many jobs arrive together, then they share one write, split at the item limit', async () => {
    const writes: number[][] = [];
    const writer = new GroupCommit<number>(
      async (items) => {
        writes.push(items);
      },
      limit(5, 5),
    );
    await Promise.all([writer.add([1, 2]), writer.add([3, 4]), writer.add([5]), writer.add([6, 7])]);
    expect(writes).toEqual([
      [1, 2, 3, 4, 5],
      [6, 7],
    ]);
  });

  it('when a write fails, then every job in it is rejected, the failure hook runs once, and later jobs still go through', async () => {
    let calls = 0;
    const failures: number[] = [];
    const writer = new GroupCommit<string>(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
      },
      limit(100),
      {
        afterFailure: async (outcome) => {
          failures.push(outcome.items);
        },
      },
    );
    const failed = Promise.all([writer.add(['a']), writer.add(['b'])]);
    await expect(failed).rejects.toThrow('boom');
    expect(failures).toEqual([2]);
    await expect(writer.add(['c'])).resolves.toBeUndefined();
    await writer.whenIdle();
    expect(writer.status()).toMatchObject({ state: 'idle', last_write: { events: 1, ok: true } });
  });

  it('when one job is larger than the limit, then it is split across writes and resolves after the last', async () => {
    const writes: number[][] = [];
    const writer = new GroupCommit<number>(
      async (items) => {
        writes.push(items);
      },
      limit(2, 2),
    );
    let resolvedAfter = -1;
    await Promise.all([writer.add([1, 2, 3]).then(() => (resolvedAfter = writes.length)), writer.add([4])]);
    expect(writes).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(resolvedAfter).toBe(2);
  });

  it('when a part of a split job fails, then the job is rejected and its other parts are not written', async () => {
    const writes: number[][] = [];
    const writer = new GroupCommit<number>(
      async (items) => {
        writes.push(items);
        if (items.includes(1)) throw new Error('timed out');
      },
      limit(2, 2),
    );
    const results = await Promise.allSettled([writer.add([1, 2, 3, 4, 5]), writer.add([6])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    // After the failure the limit is 1: the job's other items are dropped, the next job goes alone.
    expect(writes).toEqual([[1, 2], [6]]);
  });

  it('when a single job of many items times out, then its next try is split into smaller writes', async () => {
    const { writer, sizes } = failingFirstWrite(500);
    const job = Array.from({ length: 500 }, (_, i) => i);
    await expect(writer.add(job)).rejects.toThrow('timed out');
    await writer.add(job);
    expect(sizes[0]).toBe(500);
    expect(Math.max(...sizes.slice(1))).toBe(250);
    expect(sizes.slice(1).reduce((a, b) => a + b, 0)).toBe(500);
  });

  it('when a write of many jobs fails, then the same jobs are written again in smaller writes', async () => {
    const { writer, sizes } = failingFirstWrite(8);
    const jobs = Array.from({ length: 8 }, (_, i) => [i]);
    const first = await Promise.allSettled(jobs.map((job) => writer.add(job)));
    expect(first.every((r) => r.status === 'rejected')).toBe(true);
    // The queue hands the failed jobs back; the writer now takes at most half as many per write.
    await Promise.all(jobs.map((job) => writer.add(job)));
    expect(sizes).toEqual([8, 4, 4]);
  });
});

describe('AdaptiveBatchLimit', () => {
  it('when writes time out, then the limit halves below each failed size, down to 1', () => {
    const l = limit(500);
    const seen: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      l.failed(l.current);
      seen.push(l.current);
    }
    expect(seen.slice(0, 4)).toEqual([250, 125, 62, 31]);
    expect(seen.at(-1)).toBe(1);
    expect(l.consecutiveFailures).toBe(10);
  });

  it('when a write is slower than the target, then the next is halved; when within it and full, it grows by half up to the max', () => {
    const l = limit(400, 1000, 1000);
    l.succeeded(400, 1500);
    expect(l.current).toBe(200);
    l.succeeded(200, 100);
    expect(l.current).toBe(300);
    // Just under the target still grows: a small write's fixed cost must not pin the limit.
    l.succeeded(300, 990);
    expect(l.current).toBe(450);
    for (let i = 0; i < 20; i += 1) l.succeeded(l.current, 100);
    expect(l.current).toBe(1000);
    expect(l.consecutiveFailures).toBe(0);
  });

  it('when fast writes are smaller than half the limit (a quiet queue), then the limit stays', () => {
    const l = limit(400);
    l.succeeded(10, 5);
    expect(l.current).toBe(400);
  });

  it('when the limit fell to 1, then about 17 fast full writes bring it back to 1,000', () => {
    const l = limit(1, 5000, 1000);
    let writes = 0;
    while (l.current < 1000) {
      l.succeeded(l.current, 10);
      writes += 1;
    }
    expect(writes).toBeLessThanOrEqual(17);
  });
});
