/** Ground truth for custom metrics, computed by the tests independently of the production code. */

/**
 * Shewchuk's exact summation (Python's math.fsum): non-overlapping partials, rounded correctly at the end.
 * Overflows on intermediate sums beyond the largest double: keep test values below 1e300.
 */
export function fsum(values: readonly number[]): number {
  const partials: number[] = [];
  for (let x of values) {
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  let n = partials.length;
  let hi = 0;
  let lo = 0;
  if (n > 0) {
    hi = partials[--n]!;
    while (n > 0) {
      const x = hi;
      const y = partials[--n]!;
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
  }
  return hi;
}

/** Nearest rank: the value at rank ceil(p/100 × n) of the sorted values. */
export function nearestRankOf(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return sorted[rank - 1]!;
}

export interface TruthAggregates {
  count: number;
  sum: number;
  /** fsum / count: within one rounding of the exact mean. */
  approxMean: number;
  min: number;
  max: number;
  median: number;
  p95: number;
}

export function truthOf(values: readonly number[]): TruthAggregates {
  const sum = fsum(values);
  return {
    count: values.length,
    sum,
    approxMean: sum / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    median: nearestRankOf(values, 50),
    p95: nearestRankOf(values, 95),
  };
}
