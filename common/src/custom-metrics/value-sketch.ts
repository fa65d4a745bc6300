/**
 * A mergeable summary of a bucket's values for percentiles once raw values are gone (DDSketch-style,
 * logarithmic bins): a value `v > 0` falls in bin `i = ceil(log_γ v)`, i.e. `(γ^(i-1), γ^i]`, with
 * `γ = (1 + α) / (1 - α)`; negative values mirror it, zero has a bin of its own. A bin is answered by
 * `2 γ^i / (γ + 1)`, which is within a relative error `α` of every value of the bin. So a nearest-rank
 * percentile read from the bins is within `α` (1 %) of the exact nearest-rank value (relative, same sign;
 * zero exactly), whatever the number of values. Bins are counters, so `$inc` merges them.
 */
export const SKETCH_RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);

/** Bin key → count. Keys: `p<i>` (positive), `n<i>` (negative, by magnitude), `z` (zero). */
export type SketchBins = Record<string, number>;

export function sketchBinOf(value: number): string {
  if (value === 0) return 'z';
  const index = Math.ceil(Math.log(Math.abs(value)) / LOG_GAMMA);
  return `${value > 0 ? 'p' : 'n'}${index}`;
}

/** The value a bin answers with. */
export function sketchBinValue(key: string): number {
  if (key === 'z') return 0;
  const index = Number(key.slice(1));
  const magnitude = (2 * GAMMA ** index) / (GAMMA + 1);
  return key.startsWith('n') ? -magnitude : magnitude;
}

export function addBins(into: SketchBins, more: Readonly<SketchBins>): SketchBins {
  for (const [key, count] of Object.entries(more)) into[key] = (into[key] ?? 0) + count;
  return into;
}

/**
 * Nearest rank (1-based) of percentile `p` (0 < p ≤ 100) among `count` values: `ceil(p/100 × count)`,
 * computed on integers so that no rounding of `p/100` moves it.
 */
export function nearestRank(p: number, count: number): number {
  const hundredths = Math.round(p * 100);
  return Math.max(1, Math.floor((hundredths * count + 9_999) / 10_000));
}

/** The exact nearest-rank percentile of `sorted` (ascending); undefined when empty. */
export function percentileOfSorted(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[nearestRank(p, sorted.length) - 1];
}

/** The nearest-rank percentile read from bins (within SKETCH_RELATIVE_ACCURACY of the exact one). */
export function percentileOfBins(bins: Readonly<SketchBins>, p: number): number | undefined {
  const entries = Object.entries(bins)
    .filter(([, count]) => count > 0)
    .map(([key, count]) => ({ value: sketchBinValue(key), count }))
    .sort((a, b) => a.value - b.value);
  const total = entries.reduce((sum, e) => sum + e.count, 0);
  if (total === 0) return undefined;
  const rank = nearestRank(p, total);
  let seen = 0;
  for (const entry of entries) {
    seen += entry.count;
    if (seen >= rank) return entry.value;
  }
  return entries[entries.length - 1]!.value;
}
