/**
 * Evidence hostnames and the derived `single_source_only` signal.
 *
 * `new URL()` costs about a microsecond per call, more than the rest of the
 * line's validation, so the common shape (`http(s)://` + plain ASCII host +
 * optional port) is sliced by hand; everything else falls back to the WHATWG
 * parser so the answer always equals `new URL(u).hostname`.
 */

// A plain host: what the WHATWG parser returns unchanged (after lower-casing)
// unless its last label looks numeric (IPv4 forms such as `0x7f.1` get
// rewritten) or a label is punycode (`xn--`, which the parser validates);
// both are checked separately.
const PLAIN_HOST = /^[a-z0-9.-]+$/i;
const PUNYCODE = /(?:^|\.)xn--/i;
const PORT = /^\d{0,5}$/;

/**
 * The URL's hostname, lower-cased, or `null` when `url` is not a valid URL or
 * has no host. Equals `new URL(url).hostname` for every valid URL.
 */
export function urlHostname(url: string): string | null {
  const fast = fastHostname(url);
  if (fast !== undefined) return fast;
  try {
    const host = new URL(url).hostname;
    return host === '' ? null : host;
  } catch {
    return null;
  }
}

/** `undefined` means "not the simple shape: ask the real parser". */
function fastHostname(url: string): string | undefined {
  let start: number;
  const c4 = url.charCodeAt(4) | 0x20; // lower-case ASCII
  if (c4 === 0x3a /* : */ && url.slice(0, 4).toLowerCase() === 'http') start = 5;
  else if (c4 === 0x73 /* s */ && url.charCodeAt(5) === 0x3a && url.slice(0, 4).toLowerCase() === 'http') start = 6;
  else return undefined;
  if (url.charCodeAt(start) !== 0x2f || url.charCodeAt(start + 1) !== 0x2f) return undefined;
  start += 2;
  let end = start;
  const len = url.length;
  while (end < len) {
    const ch = url.charCodeAt(end);
    if (ch === 0x2f /* / */ || ch === 0x3f /* ? */ || ch === 0x23 /* # */) break;
    end++;
  }
  let authority = url.slice(start, end);
  const colon = authority.indexOf(':');
  if (colon !== -1) {
    const port = authority.slice(colon + 1);
    if (!PORT.test(port) || (port !== '' && Number(port) > 65535)) return undefined;
    authority = authority.slice(0, colon);
  }
  if (authority === '' || !PLAIN_HOST.test(authority) || PUNYCODE.test(authority)) return undefined;
  const lastDot = authority.lastIndexOf('.', authority.length - 2); // a trailing dot is kept by URL
  const last = authority.charCodeAt(lastDot + 1);
  if (last >= 0x30 && last <= 0x39) return undefined; // possible IPv4 form
  return authority.toLowerCase();
}

/** Hostname used to compare sources: lower-cased, one leading `www.` dropped. */
export function sourceKey(url: string): string | null {
  const host = urlHostname(url);
  if (host === null) return null;
  return host.startsWith('www.') ? host.slice(4) : host;
}

/**
 * True when the evidence names fewer than 2 distinct source hostnames.
 * Entries are URL strings or objects with a `url` string; anything else has
 * no hostname.
 */
export function isSingleSource(evidence: readonly unknown[]): boolean {
  let first: string | null = null;
  for (const entry of evidence) {
    let url: unknown = entry;
    if (typeof entry === 'object' && entry !== null) url = (entry as { url?: unknown }).url;
    if (typeof url !== 'string') continue;
    const key = sourceKey(url);
    if (key === null) continue;
    if (first === null) first = key;
    else if (key !== first) return false;
  }
  return true;
}
