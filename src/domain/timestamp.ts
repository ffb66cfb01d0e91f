/**
 * Strict ISO-8601 timestamps for `created_at`.
 *
 * `Date.parse` accepts far more than ISO-8601 (`"March 7"`, `"2024-02-30"`
 * rolled over to March 1) and reads an offset-less date-time as *local* time,
 * which would make the stored value depend on the machine's time zone. So the
 * shape is matched here and every calendar field is range-checked.
 */

// date, optional time (T, t or space), optional fraction (any digits, kept
// to milliseconds), optional offset (Z, ±HH, ±HHMM, ±HH:MM).
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

// Already what toISOString() prints: only the ranges need checking.
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * `text` re-emitted as ISO-8601 UTC (`Date#toISOString`), or `null` when it
 * is not a valid ISO-8601 date or date-time. A value without an offset is
 * taken as UTC.
 *
 * @example
 * parseIsoTimestamp('2024-05-01T12:00:00+02:00'); // '2024-05-01T10:00:00.000Z'
 */
export function parseIsoTimestamp(text: string): string | null {
  if (CANONICAL.test(text)) return isCanonicalValid(text) ? text : null;
  const m = ISO.exec(text);
  if (m === null) return null;
  const [, y = '', mo = '', d = '', h = '00', mi = '00', sec = '00', frac, , sign, oh = '00', om = '00'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return null;
  const ms = frac === undefined ? '000' : frac.length >= 3 ? frac.slice(0, 3) : frac.padEnd(3, '0');
  if (Number(oh) > 23 || Number(om) > 59) return null;
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  // Date methods are C++ calls and dominate the cost of a line; UTC input
  // (the usual case) is already in the output's fields.
  if (offsetMinutes === 0) return `${y}-${mo}-${d}T${h}:${mi}:${sec}.${ms}Z`;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0-99 to 1900-1999
  date.setUTCHours(Number(h), Number(mi) - offsetMinutes, Number(sec), Number(ms));
  return date.toISOString();
}

function isCanonicalValid(t: string): boolean {
  const year = Number(t.slice(0, 4));
  const month = Number(t.slice(5, 7));
  const day = Number(t.slice(8, 10));
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
    && Number(t.slice(11, 13)) <= 23 && Number(t.slice(14, 16)) <= 59 && Number(t.slice(17, 19)) <= 59;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
