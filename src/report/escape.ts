import { escapeControl } from '../cli/format';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text from the feed or the database as HTML text or an attribute value:
 * markup characters become entities, and control characters (a terminal's
 * ESC sequences, bidi overrides) visible escapes (`\x1b`), as on a terminal.
 */
export function html(s: string): string {
  return escapeControl(s).replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

/**
 * `value` as the text of a `<script type="application/json">` element: every
 * `<` as `\u003c`, so no `</script>` (or `<!--`) in the data can end the
 * element early; JSON.parse reads the same value back.
 */
export function jsonScriptText(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
