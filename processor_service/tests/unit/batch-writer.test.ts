import { BatchWriter } from '../../src/services/batch-writer';

describe('BatchWriter', () => {
  it('when many jobs arrive together, then they share one write, split at the item limit', async () => {
    const writes: number[][] = [];
    const writer = new BatchWriter<number>(async (items) => {
      writes.push(items);
    }, 5);
    await Promise.all([writer.add([1, 2]), writer.add([3, 4]), writer.add([5]), writer.add([6, 7])]);
    expect(writes).toEqual([
      [1, 2, 3, 4, 5],
      [6, 7],
    ]);
  });

  it('when a write fails, then every job in it is rejected and later jobs still go through', async () => {
    let calls = 0;
    const writer = new BatchWriter<string>(async () => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
    }, 100);
    const failed = Promise.all([writer.add(['a']), writer.add(['b'])]);
    await expect(failed).rejects.toThrow('boom');
    await expect(writer.add(['c'])).resolves.toBeUndefined();
    await writer.whenIdle();
  });

  it('when one job is larger than the limit, then it is written whole, alone', async () => {
    const writes: number[][] = [];
    const writer = new BatchWriter<number>(async (items) => {
      writes.push(items);
    }, 2);
    await writer.add([1, 2, 3]);
    expect(writes).toEqual([[1, 2, 3]]);
  });
});
