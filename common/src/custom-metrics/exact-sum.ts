/**
 * Exact sums of float64 values that a database can keep with plain `$inc`.
 *
 * A finite double is `m × 2^e` with an integer `m < 2^53` and `e ≥ -1074`, so every double is an integer
 * multiple of 2^-1074. A value is split into signed *limbs* of SUM_LIMB_BITS bits of that integer: limb
 * `j` holds the bits `[24 j, 24 j + 24)` (at most four limbs per value). Limbs are integers below 2^24, so
 * `$inc` adds them exactly until a limb passes 2^53: 2^29 values per document, far beyond any bucket.
 * The sum of many values is the sum of their limbs, exact, and is rounded to the nearest double only once,
 * when read (`roundRational`). This is stronger than a compensated (Kahan/Neumaier) sum, which is exact
 * only up to a bounded error, and it composes: any set of buckets adds up to the same exact sum.
 */
export const SUM_LIMB_BITS = 24;
const LIMB_BITS_BIG = BigInt(SUM_LIMB_BITS);
const LIMB_MASK = (1n << LIMB_BITS_BIG) - 1n;
/** Every double is an integer multiple of 2^-1074. */
export const SUM_SCALE_EXPONENT = -1074;

/** Limbs of one value: limb index → signed integer (|limb| < 2^24). Zero limbs are left out. */
export type SumLimbs = Record<string, number>;

const view = new DataView(new ArrayBuffer(8));

/** `|value| × 2^1074` as an integer (exact for every finite double). */
function scaledMagnitude(value: number): bigint {
  view.setFloat64(0, value);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const exponentBits = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  if (exponentBits === 0) return fraction; // subnormal: fraction × 2^-1074
  return (fraction | (1n << 52n)) << BigInt(exponentBits - 1);
}

/** The limbs of one finite value. */
export function limbsOf(value: number): SumLimbs {
  if (!Number.isFinite(value)) throw new RangeError('only finite values have limbs');
  const limbs: SumLimbs = {};
  if (value === 0) return limbs;
  const sign = value < 0 ? -1 : 1;
  let rest = scaledMagnitude(value);
  for (let j = 0; rest > 0n; j += 1) {
    const limb = Number(rest & LIMB_MASK);
    if (limb !== 0) limbs[j] = sign * limb;
    rest >>= LIMB_BITS_BIG;
  }
  return limbs;
}

/** Adds `more` into `into` (both limb maps; numbers stay exact below 2^53 per limb). */
export function addLimbs(into: SumLimbs, more: SumLimbs): SumLimbs {
  for (const [j, limb] of Object.entries(more)) into[j] = (into[j] ?? 0) + limb;
  return into;
}

/** The exact value of limbs, as an integer count of 2^-1074. */
export function limbsToScaledInteger(limbs: Readonly<SumLimbs>): bigint {
  let total = 0n;
  for (const [j, limb] of Object.entries(limbs)) {
    if (limb === 0) continue;
    total += BigInt(limb) << (BigInt(j) * LIMB_BITS_BIG);
  }
  return total;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * The double nearest to `numerator / denominator × 2^exponent` (ties to even), or ±Infinity when it is
 * beyond the largest double. `denominator` must be positive. Correctly rounded, subnormals included.
 */
export function roundRational(numerator: bigint, denominator: bigint, exponent: number): number {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  if (numerator === 0n) return 0;
  const negative = numerator < 0n;
  const a = negative ? -numerator : numerator;
  // floor(log2(a / d)).
  let log2 = bitLength(a) - bitLength(denominator);
  const atLeast = log2 >= 0 ? a >= denominator << BigInt(log2) : a << BigInt(-log2) >= denominator;
  if (!atLeast) log2 -= 1;
  const binaryExponent = log2 + exponent;
  if (binaryExponent > 1023) return negative ? -Infinity : Infinity;
  // The unit in the last place of the result: 52 bits below the leading one, never below 2^-1074.
  const ulpExponent = Math.max(binaryExponent - 52, -1074);
  const shift = exponent - ulpExponent;
  const num = shift >= 0 ? a << BigInt(shift) : a;
  const den = shift >= 0 ? denominator : denominator << BigInt(-shift);
  let quotient = num / den;
  const twiceRemainder = (num % den) * 2n;
  if (twiceRemainder > den || (twiceRemainder === den && (quotient & 1n) === 1n)) quotient += 1n;
  // quotient ≤ 2^53 and ulpExponent in [-1074, 971]: the product is exact (or overflows to Infinity).
  const magnitude = Number(quotient) * 2 ** ulpExponent;
  return negative ? -magnitude : magnitude;
}

/** The exact sum behind `limbs`, rounded once to the nearest double (±Infinity when it overflows). */
export function sumOfLimbs(limbs: Readonly<SumLimbs>): number {
  return roundRational(limbsToScaledInteger(limbs), 1n, SUM_SCALE_EXPONENT);
}

/** The exact mean (sum / count), rounded once to the nearest double. */
export function meanOfLimbs(limbs: Readonly<SumLimbs>, count: number): number {
  if (count <= 0) throw new RangeError('a mean needs at least one value');
  return roundRational(limbsToScaledInteger(limbs), BigInt(count), SUM_SCALE_EXPONENT);
}

/** The exact sum of plain values, rounded once (for tests and small in-memory sets). */
export function exactSum(values: readonly number[]): number {
  const limbs: SumLimbs = {};
  for (const value of values) addLimbs(limbs, limbsOf(value));
  return sumOfLimbs(limbs);
}
