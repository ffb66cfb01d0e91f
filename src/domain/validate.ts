/**
 * Field rules of spec section 1, hand-written per field: no schema
 * interpreter, no copying of the parsed object. Every read is a plain
 * property read on the object `JSON.parse` built; none of the field names
 * collides with an `Object.prototype` member, and nothing here writes to
 * input-derived objects, so `__proto__` / `constructor` keys stay inert data.
 */
import { expected, Invalid, missing } from './invalid';
import { SCORE_CAPS } from './scoring';
import { hasControlChars, hasLengthBetween, isWellFormed } from './strings';
import { parseIsoTimestamp } from './timestamp';
import type { Decision, ScoreBreakdown, Signals } from './types';

type Json = Record<string, unknown>;

/** A line's item after validation, before normalisation and scoring. */
export interface ValidItem {
  itemId: string;
  itemType: string;
  title: string;
  summary: string;
  claims: readonly unknown[];
  evidence: readonly unknown[];
  scores: ScoreBreakdown | null;
  riskFlags: readonly string[];
  explainability: readonly string[];
  /** Only the signals the line gave. */
  signals: Partial<Signals>;
  triggers: readonly string[];
  decision: Decision | null;
  decisionReason: string | null;
  createdAt: string | null;
}

const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_VALUES: readonly unknown[] = Object.freeze([]);
const NO_SIGNALS: Partial<Signals> = Object.freeze({});

/** Validates one parsed line object; the first broken rule wins. */
export function validateItem(o: Json): ValidItem | Invalid {
  const itemId = textField(o.item_id, 'item_id', 200, true);
  if (itemId instanceof Invalid) return itemId;
  const itemType = textField(o.item_type, 'item_type', 64, false);
  if (itemType instanceof Invalid) return itemType;
  const title = titleField(o.title);
  if (title instanceof Invalid) return title;
  const summary = summaryField(o.summary);
  if (summary instanceof Invalid) return summary;
  // Plain property reads (not o[key]) keep every load a named, cached one.
  const claims = anyArray(pick(o.claims, o.claims_json, 'claims'));
  if (claims instanceof Invalid) return claims;
  const evidence = evidenceField(pick(o.evidence, o.evidence_json, 'evidence'));
  if (evidence instanceof Invalid) return evidence;
  const scores = scoresField(pick(o.scores, o.scores_json, 'scores'));
  if (scores instanceof Invalid) return scores;
  const riskFlags = stringArray(pick(o.risk_flags, o.risk_flags_json, 'risk_flags'));
  if (riskFlags instanceof Invalid) return riskFlags;
  const explainability = stringArray(pick(o.explainability, o.explainability_json, 'explainability'));
  if (explainability instanceof Invalid) return explainability;
  const signals = signalsField(o.signals);
  if (signals instanceof Invalid) return signals;
  const triggers = stringArray(new Field(o.triggers, 'triggers'));
  if (triggers instanceof Invalid) return triggers;
  const decision = decisionField(o.decision);
  if (decision instanceof Invalid) return decision;
  const decisionReason = reasonField(o.decision_reason);
  if (decisionReason instanceof Invalid) return decisionReason;
  const createdAt = createdAtField(o.created_at);
  if (createdAt instanceof Invalid) return createdAt;
  return {
    itemId, itemType, title, summary, claims, evidence, scores, riskFlags, explainability, signals, triggers,
    decision, decisionReason, createdAt,
  };
}

function textField(v: unknown, name: string, max: number, noControl: boolean): string | Invalid {
  if (typeof v === 'string' && hasLengthBetween(v, 1, max) && !(noControl && hasControlChars(v)) && isWellFormed(v)) return v;
  const want = `a string of 1-${max} characters${noControl ? ' without control characters' : ''}`;
  if (v === undefined) return missing(name, want);
  if (typeof v !== 'string') return expected('wrong_type', name, want, v);
  return expected('invalid_value', name, `${want} (no lone surrogates)`, v);
}

function titleField(v: unknown): string | Invalid {
  const want = 'a non-empty string';
  if (v === undefined) return missing('title', want);
  if (typeof v !== 'string') return expected('wrong_type', 'title', want, v);
  if (v.trim() === '' || !isWellFormed(v)) return expected('invalid_value', 'title', `${want} (not only whitespace, no lone surrogates)`, v);
  return v;
}

function summaryField(v: unknown): string | Invalid {
  const want = 'a string (may be empty)';
  if (v === undefined) return missing('summary', want);
  if (typeof v !== 'string') return expected('wrong_type', 'summary', want, v);
  if (!isWellFormed(v)) return expected('invalid_value', 'summary', `${want} without lone surrogates`, v);
  return v;
}

/** A field's value and the key it came from (for reasons). */
class Field {
  constructor(readonly value: unknown, readonly name: string) {}
}

/**
 * The plain key's value, or its `<key>_json` synonym's when the plain key is
 * absent or null. A synonym holding a string is JSON text (the original
 * store's dicts held serialised columns) and is parsed.
 */
function pick(plain: unknown, synonym: unknown, key: string): Field | Invalid {
  if ((plain !== undefined && plain !== null) || synonym === undefined || synonym === null) return new Field(plain, key);
  const name = `${key}_json`;
  if (typeof synonym !== 'string') return new Field(synonym, name);
  try {
    return new Field(JSON.parse(synonym) as unknown, name);
  } catch {
    return expected('invalid_value', name, 'JSON text or a JSON value', synonym);
  }
}

function anyArray(f: Field | Invalid): readonly unknown[] | Invalid {
  if (f instanceof Invalid) return f;
  const v = f.value;
  if (Array.isArray(v)) return v;
  if (v === undefined || v === null) return NO_VALUES;
  return expected('wrong_type', f.name, 'an array', v);
}

function stringArray(f: Field | Invalid): readonly string[] | Invalid {
  if (f instanceof Invalid) return f;
  const v = f.value;
  if (v === undefined || v === null) return NO_STRINGS;
  if (!Array.isArray(v)) return expected('wrong_type', f.name, 'an array of strings', v);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'string') return expected('wrong_type', `${f.name}[${i}]`, 'a string', v[i]);
  }
  return v as string[];
}

function evidenceField(f: Field | Invalid): readonly unknown[] | Invalid {
  const arr = anyArray(f);
  if (arr instanceof Invalid || f instanceof Invalid) return arr;
  for (let i = 0; i < arr.length; i++) {
    const e = arr[i];
    if (typeof e === 'string') continue;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      return expected('wrong_type', `${f.name}[${i}]`, 'a URL string or an object {url, source, published_at}', e);
    }
    const { url, source, published_at: publishedAt } = e as Json;
    const bad = !isOptionalString(url) ? 'url' : !isOptionalString(source) ? 'source' : !isOptionalString(publishedAt) ? 'published_at' : null;
    if (bad !== null) return expected('wrong_type', `${f.name}[${i}].${bad}`, 'a string or null', (e as Json)[bad]);
  }
  return arr;
}

function isOptionalString(v: unknown): boolean {
  return typeof v === 'string' || v === undefined || v === null;
}

function scoresField(f: Field | Invalid): ScoreBreakdown | Invalid | null {
  if (f instanceof Invalid) return f;
  const s = f.value;
  if (s === undefined || s === null) return null;
  if (typeof s !== 'object' || Array.isArray(s)) return expected('wrong_type', f.name, 'an object {impact, timeliness, virality, relevance, confidence}', s);
  const j = s as Json;
  const impact = component(j.impact, f.name, 'impact');
  if (impact instanceof Invalid) return impact;
  const timeliness = component(j.timeliness, f.name, 'timeliness');
  if (timeliness instanceof Invalid) return timeliness;
  const virality = component(j.virality, f.name, 'virality');
  if (virality instanceof Invalid) return virality;
  const relevance = component(j.relevance, f.name, 'relevance');
  if (relevance instanceof Invalid) return relevance;
  const confidence = component(j.confidence, f.name, 'confidence');
  if (confidence instanceof Invalid) return confidence;
  return { impact, timeliness, virality, relevance, confidence };
}

function component(v: unknown, parent: string, key: keyof ScoreBreakdown): number | Invalid {
  const cap = SCORE_CAPS[key];
  if (typeof v === 'number' && v >= 0 && v <= cap) return v; // excludes NaN and +-Infinity (1e999)
  const name = `${parent}.${key}`;
  const want = `a number from 0 to ${cap}`;
  if (v === undefined) return missing(name, want);
  return expected(typeof v === 'number' ? 'out_of_range' : 'wrong_type', name, want, v);
}

const SIGNAL_KEYS = ['single_source_only', 'brigading_suspected', 'high_misinfo_risk'] as const;

function signalsField(v: unknown): Partial<Signals> | Invalid {
  if (v === undefined || v === null) return NO_SIGNALS;
  const want = 'an object {single_source_only, brigading_suspected, high_misinfo_risk} of booleans';
  if (typeof v !== 'object' || Array.isArray(v)) return expected('wrong_type', 'signals', want, v);
  const out: Partial<Signals> = {};
  for (const k of SIGNAL_KEYS) {
    const b = (v as Json)[k];
    if (typeof b === 'boolean') out[k] = b;
    else if (b !== undefined && b !== null) return expected('wrong_type', `signals.${k}`, 'a boolean', b);
  }
  return out;
}

function decisionField(v: unknown): Decision | null | Invalid {
  if (v === undefined || v === null) return null;
  if (v === 'promote' || v === 'monitor' || v === 'block') return v;
  const want = 'one of "promote", "monitor", "block" or null';
  return expected(typeof v === 'string' ? 'invalid_value' : 'wrong_type', 'decision', want, v);
}

function reasonField(v: unknown): string | null | Invalid {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') return expected('wrong_type', 'decision_reason', 'a string or null', v);
  if (!isWellFormed(v)) return expected('invalid_value', 'decision_reason', 'a string without lone surrogates', v);
  return v;
}

function createdAtField(v: unknown): string | null | Invalid {
  if (v === undefined || v === null) return null;
  const want = 'an ISO-8601 timestamp such as "2024-05-01T12:00:00Z"';
  if (typeof v !== 'string') return expected('wrong_type', 'created_at', want, v);
  const iso = parseIsoTimestamp(v);
  return iso === null ? expected('invalid_timestamp', 'created_at', want, v) : iso;
}
