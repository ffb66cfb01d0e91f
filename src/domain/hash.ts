/**
 * `contentHash`: a digest of an item's stored content, for callers that
 * compare items (`IntelItem.contentHash`, computed when a row is read). The
 * store does not use it to detect changes: its upsert compares the columns.
 */
import { hash } from 'node:crypto';

/**
 * The content a row is compared on: every stored field except the id, the
 * run and the timestamps. The trend score is inside `scoresJson`
 * (`trend_score`), so it is covered without being hashed twice.
 */
export interface HashedContent {
  readonly itemType: string;
  readonly title: string;
  readonly summary: string;
  readonly claimsJson: string;
  readonly evidenceJson: string;
  readonly scoresJson: string;
  readonly riskFlagsJson: string;
  readonly explainabilityJson: string;
  readonly decision: string | null;
  readonly decisionReason: string | null;
}

/**
 * SHA-1, hex (40 chars): as fast as sha256 with SHA-NI, faster without. This
 * is change detection, not a security boundary.
 */
export const CONTENT_HASH_ALGORITHM = 'sha1';

/**
 * Hex digest over the content fields. The hashed text starts with every
 * field's length (-1 for null) and then the fields back to back, so two
 * different field tuples never produce the same text. Text fields are
 * well-formed UTF-16 (the parser rejects lone surrogates) and the JSON texts
 * escape them, so the UTF-8 bytes the hash reads are distinct too.
 */
export function contentHash(c: HashedContent): string {
  const { decision, decisionReason } = c;
  const header = `${c.itemType.length},${c.title.length},${c.summary.length},${c.claimsJson.length},`
    + `${c.evidenceJson.length},${c.scoresJson.length},${c.riskFlagsJson.length},${c.explainabilityJson.length},`
    + `${decision === null ? -1 : decision.length},${decisionReason === null ? -1 : decisionReason.length};`;
  // join() builds the text flat in one go; `+` built a rope that hashing then
  // had to flatten (~5% of the hash's cost). Same text, same digest.
  const text = [header, c.itemType, c.title, c.summary, c.claimsJson, c.evidenceJson, c.scoresJson, c.riskFlagsJson,
    c.explainabilityJson, decision ?? '', decisionReason ?? ''].join('');
  return hash(CONTENT_HASH_ALGORITHM, text, 'hex');
}
