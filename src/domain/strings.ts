/** String checks the field rules need, each cheap on the common case. */

type WellFormedFn = (this: string) => boolean;
// String#isWellFormed is in Node 20 (V8 11.3) but not in this project's ES2022 lib typings.
const nativeWellFormed = (String.prototype as unknown as { isWellFormed?: WellFormedFn }).isWellFormed;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** False when `s` holds a lone (unpaired) surrogate. */
export function isWellFormed(s: string): boolean {
  return nativeWellFormed !== undefined ? nativeWellFormed.call(s) : !LONE_SURROGATE.test(s);
}

/** Length in Unicode code points (what "characters" means in the field rules). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n--; i++; }
    }
  }
  return n;
}

/** True when `s` has between `min` and `max` code points; counts only when the UTF-16 length is ambiguous. */
export function hasLengthBetween(s: string, min: number, max: number): boolean {
  if (s.length < min) return false;
  if (s.length <= max) return true;
  return s.length <= 2 * max && codePointLength(s) <= max;
}

// C0 controls, DEL and C1 controls: matching them is the point.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function hasControlChars(s: string): boolean {
  return CONTROL.test(s);
}
