/**
 * Number-to-text for the stored row. A non-integer double costs V8 a
 * shortest-round-trip conversion every time it is printed, and every scored
 * item prints its trend score twice (scores column and gate reason), often a
 * half-point component too. Trend scores are rounded to tenths, and
 * components are mostly whole or half points, so the texts of the tenths
 * from 0 to 100 are made once. (With the timestamp and hash-text changes of
 * the same commit: `parseIntelLine` 0.963-0.990x the time before.)
 */
const TENTHS: readonly string[] = Array.from({ length: 1001 }, (_, k) => String(k / 10));

/**
 * Exactly `String(n)` (the same text as `JSON.stringify(n)` for a finite
 * number), from a table when `n` is a tenth between 0 and 100.
 *
 * @example
 * numberText(63.4); // '63.4'
 */
export function numberText(n: number): string {
  const k = Math.round(n * 10);
  // k / 10 === n: the very double the table's text was made from.
  return k >= 0 && k <= 1000 && k / 10 === n ? (TENTHS[k] as string) : String(n);
}
