import {
  addLimbs,
  coverRange,
  exactSum,
  limbsOf,
  meanOfLimbs,
  nearestRank,
  percentileOfBins,
  percentileOfSorted,
  roundRational,
  sketchBinOf,
  SKETCH_RELATIVE_ACCURACY,
  sumOfLimbs,
  type SketchBins,
  type SumLimbs,
} from '@analytics/common';
import { fsum } from '../../../tests/support/metric-ground-truth';

/** A deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('exact sums', () => {
  it('when values cancel around a small one ([1e16, 1, -1e16]), then the sum is 1 (a naive sum gives 0)', () => {
    expect(1e16 + 1 - 1e16).toBe(0);
    expect(exactSum([1e16, 1, -1e16])).toBe(1);
  });

  it('when 0.1, 0.2 and 0.3 are added, then the result is the double nearest to their exact sum (0.6)', () => {
    expect(0.1 + 0.2 + 0.3).toBe(0.6000000000000001);
    expect(exactSum([0.1, 0.2, 0.3])).toBe(0.6);
  });

  it('when the exact sum is beyond the largest double, then it rounds to Infinity (answered as overflow)', () => {
    expect(exactSum([Number.MAX_VALUE, Number.MAX_VALUE])).toBe(Infinity);
    expect(exactSum([-Number.MAX_VALUE, -Number.MAX_VALUE])).toBe(-Infinity);
    expect(exactSum([Number.MAX_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE])).toBe(Number.MAX_VALUE);
  });

  it('when subnormal, huge and signed-zero values mix, then every sum matches an independent exact sum', () => {
    const cases: number[][] = [
      [5e-324, 5e-324, -5e-324],
      [Number.MIN_VALUE, 1, -1],
      [2 ** 53, 1, 1],
      [-0, 0, -0],
      [1, 2 ** -60, 2 ** -60, -1],
    ];
    for (const values of cases) expect(exactSum(values)).toBe(fsum(values) + 0);
    // An intermediate sum beyond the largest double is no problem for an exact sum (fsum overflows here).
    expect(exactSum([1e308, 1e308, -1e308, -1e308, 1e-308])).toBe(1e-308);
  });

  it('when thousands of random values over every magnitude are summed, then the sum equals fsum', () => {
    const next = random(17);
    for (let round = 0; round < 30; round += 1) {
      const values = Array.from({ length: 500 }, () => {
        const magnitude = 10 ** Math.floor(next() * 40 - 20);
        return (next() - 0.5) * magnitude;
      });
      expect(exactSum(values)).toBe(fsum(values));
    }
  });

  it('when limbs of many values are merged in any grouping, then the sum is the same (buckets compose)', () => {
    const next = random(5);
    const values = Array.from({ length: 300 }, () => (next() - 0.5) * 10 ** Math.floor(next() * 30));
    const whole: SumLimbs = {};
    for (const v of values) addLimbs(whole, limbsOf(v));
    const parts = [{}, {}, {}] as SumLimbs[];
    values.forEach((v, i) => addLimbs(parts[i % 3]!, limbsOf(v)));
    const merged = parts.reduce((into, part) => addLimbs(into, part), {} as SumLimbs);
    expect(sumOfLimbs(merged)).toBe(sumOfLimbs(whole));
    expect(sumOfLimbs(whole)).toBe(fsum(values));
    for (const limb of Object.values(whole)) expect(Number.isSafeInteger(limb)).toBe(true);
  });

  it('when a mean is asked, then it is the exact sum divided by the count, rounded once', () => {
    const limbs: SumLimbs = {};
    for (const v of [1e16, 1, -1e16, 2]) addLimbs(limbs, limbsOf(v));
    expect(meanOfLimbs(limbs, 4)).toBe(0.75);
    const thirds: SumLimbs = {};
    for (const v of [1, 1, 0]) addLimbs(thirds, limbsOf(v));
    expect(meanOfLimbs(thirds, 3)).toBe(2 / 3);
    const big: SumLimbs = {};
    for (const v of [Number.MAX_VALUE, Number.MAX_VALUE]) addLimbs(big, limbsOf(v));
    expect(meanOfLimbs(big, 2)).toBe(Number.MAX_VALUE);
  });

  it('when a rational is rounded, then ties go to even and subnormals are exact', () => {
    expect(roundRational(1n, 3n, 0)).toBe(1 / 3);
    expect(roundRational(2n ** 53n + 1n, 1n, 0)).toBe(2 ** 53);
    expect(roundRational(2n ** 53n + 3n, 1n, 0)).toBe(2 ** 53 + 4);
    expect(roundRational(1n, 1n, -1074)).toBe(Number.MIN_VALUE);
    expect(roundRational(1n, 2n, -1074)).toBe(0);
    expect(roundRational(3n, 2n, -1074)).toBe(2 * Number.MIN_VALUE);
    expect(roundRational(-7n, 2n, 0)).toBe(-3.5);
  });
});

describe('nearest-rank percentiles', () => {
  it('when values are sorted, then the p-th percentile is the value at rank ceil(p/100 × n)', () => {
    const values = [15, 20, 35, 40, 50];
    expect(percentileOfSorted(values, 50)).toBe(35);
    expect(percentileOfSorted(values, 95)).toBe(50);
    expect(percentileOfSorted([1, 2, 3, 4], 50)).toBe(2);
    expect(percentileOfSorted([7], 95)).toBe(7);
    expect(percentileOfSorted([], 50)).toBeUndefined();
    expect(nearestRank(95, 20)).toBe(19);
    expect(nearestRank(95, 100)).toBe(95);
    expect(nearestRank(95, 101)).toBe(96);
    expect(nearestRank(50, 1)).toBe(1);
  });

  it('when percentiles come from the sketch, then they are within the documented relative error', () => {
    const next = random(99);
    const values = Array.from({ length: 2000 }, () => (next() < 0.1 ? -1 : 1) * Math.exp(next() * 20 - 10));
    values.push(0, 0, 0);
    const bins: SketchBins = {};
    for (const v of values) {
      const bin = sketchBinOf(v);
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [1, 5, 25, 50, 75, 95, 99, 100]) {
      const exact = percentileOfSorted(sorted, p)!;
      const approx = percentileOfBins(bins, p)!;
      expect(Math.abs(approx - exact)).toBeLessThanOrEqual(
        SKETCH_RELATIVE_ACCURACY * Math.abs(exact) * (1 + 1e-12),
      );
    }
  });
});

describe('metric buckets', () => {
  const t = (iso: string) => Date.parse(iso);

  it('when a day of Asia/Kathmandu (+05:45) is covered, then 3 quarters, 23 hours and 1 quarter make it up', () => {
    const pieces = coverRange(t('2026-12-06T18:15:00Z'), t('2026-12-07T18:15:00Z'));
    expect(pieces.filter((p) => p.period === 'q')).toHaveLength(4);
    expect(pieces.filter((p) => p.period === 'h')).toHaveLength(23);
    expect(pieces[0]).toEqual({ period: 'q', bucket: '2026-12-06T18:15' });
    expect(pieces[pieces.length - 1]).toEqual({ period: 'q', bucket: '2026-12-07T18:00' });
  });

  it('when a range holds whole UTC days, then they are read as day buckets', () => {
    const pieces = coverRange(t('2026-12-01T00:00:00Z'), t('2026-12-04T00:00:00Z'));
    expect(pieces).toEqual([
      { period: 'd', bucket: '2026-12-01T00:00' },
      { period: 'd', bucket: '2026-12-02T00:00' },
      { period: 'd', bucket: '2026-12-03T00:00' },
    ]);
  });
});
