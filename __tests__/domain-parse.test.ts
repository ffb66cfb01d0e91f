import { DEFAULT_CONFIG } from '../src/config';
import {
  contentHash, DEFAULT_MAX_LINE_BYTES, NOTE_BRIGADING, parseIntelLine, parseIsoTimestamp, singleSourceNote, urlHostname,
} from '../src/domain';
import type { IntelRow, ParseResult, Reject, RejectCode } from '../src/domain';
import { generateRecords } from '../src/gen/generate';

const config = DEFAULT_CONFIG;
const scores = { impact: 20, timeliness: 15, virality: 10, relevance: 22, confidence: 8 };
const twoSources = [{ url: 'https://www.reuters.com/a', source: 'Reuters', published_at: '2024-01-01T00:00:00Z' }, 'https://apnews.com/b'];

function item(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { item_id: 'it-1', item_type: 'news', title: 'A title', summary: 'A summary', ...over };
}
function line(over: Record<string, unknown> = {}): string {
  return JSON.stringify(item(over));
}
function ok(r: ParseResult): IntelRow {
  if (!r.ok) throw new Error(`expected a row, got reject ${r.reject.code}: ${r.reject.reason}`);
  return r.row;
}
function rejected(r: ParseResult): Reject {
  if (r.ok) throw new Error(`expected a reject, got row ${r.row.itemId}`);
  return r.reject;
}
const parse = (text: string, lineNo = 1) => parseIntelLine(text, lineNo, config);
const codeOf = (text: string): RejectCode => rejected(parse(text)).code;

describe('parseIntelLine() on valid lines', () => {
  it('fills defaults for a minimal item', () => {
    const row = ok(parse(line()));
    expect(row).toEqual({
      itemId: 'it-1', itemType: 'news', title: 'A title', summary: 'A summary', claimsJson: '[]', evidenceJson: '[]',
      scoresJson: 'null', riskFlagsJson: '[]', explainabilityJson: '[]', trendScore: null, decision: null,
      decisionReason: null, createdAt: null, lineHash: null,
    });
  });

  it('accepts an empty summary', () => expect(ok(parse(line({ summary: '' }))).summary).toBe(''));

  it('stores the adjusted breakdown plus trend_score in scoresJson', () => {
    const row = ok(parse(line({ scores, evidence: twoSources })));
    expect(JSON.parse(row.scoresJson)).toEqual({ ...scores, trend_score: 76.3 });
    expect(row.trendScore).toBe(76.3);
    expect(row.decision).toBe('promote');
    expect(row.decisionReason).toBe('must-cover: score 76.3 >= 75');
  });

  it('appends the modifier notes after the input explainability', () => {
    const row = ok(parse(line({ scores: { ...scores, virality: 18 }, explainability: ['seed'], signals: { brigading_suspected: true, single_source_only: false } })));
    expect(JSON.parse(row.explainabilityJson)).toEqual(['seed', NOTE_BRIGADING]);
    expect(JSON.parse(row.scoresJson).virality).toBe(8);
  });

  it('derives single_source_only from fewer than 2 distinct evidence hostnames (case and www. ignored)', () => {
    const same = ['https://www.Reuters.com/a', { url: 'https://reuters.com/b' }, 'HTTPS://WWW.REUTERS.COM/c'];
    const row = ok(parse(line({ scores, evidence: same })));
    expect(JSON.parse(row.explainabilityJson)).toEqual([singleSourceNote(5)]);
    expect(JSON.parse(row.scoresJson)).toMatchObject({ confidence: 7, virality: 8 });
  });

  it('does not penalise two distinct hostnames', () => {
    expect(JSON.parse(ok(parse(line({ scores, evidence: twoSources }))).explainabilityJson)).toEqual([]);
  });

  it('counts invalid URLs and url-less evidence objects as no hostname', () => {
    const row = ok(parse(line({ scores, evidence: ['not a url', { source: 'x' }, 'https://apnews.com/a', 'https://'] })));
    expect(JSON.parse(row.explainabilityJson)).toEqual([singleSourceNote(5)]);
  });

  it('lets an explicit signals.single_source_only override the derived value', () => {
    const row = ok(parse(line({ scores, evidence: [], signals: { single_source_only: false } })));
    expect(JSON.parse(row.explainabilityJson)).toEqual([]);
  });

  it('keeps a manual decision and its reason', () => {
    const row = ok(parse(line({ scores, decision: 'block', decision_reason: 'legal' })));
    expect([row.decision, row.decisionReason]).toEqual(['block', 'legal']);
  });

  it('ignores decision_reason when there is no decision (the gates write the reason)', () => {
    const row = ok(parse(line({ decision_reason: 'stale' })));
    expect([row.decision, row.decisionReason]).toEqual([null, null]);
  });

  it('re-emits created_at as ISO-8601 UTC', () => {
    expect(ok(parse(line({ created_at: '2024-05-01T12:00:00+02:00' }))).createdAt).toBe('2024-05-01T10:00:00.000Z');
    expect(ok(parse(line({ created_at: '2024-05-01T12:00:00Z' }))).createdAt).toBe('2024-05-01T12:00:00.000Z');
    expect(ok(parse(line({ created_at: '2024-05-01' }))).createdAt).toBe('2024-05-01T00:00:00.000Z');
    expect(ok(parse(line({ created_at: null }))).createdAt).toBeNull();
  });

  it('ignores run_id and unknown fields', () => {
    const a = ok(parse(line({ run_id: 'upstream-7', extra: { deep: [1, 2, 3] } })));
    const b = ok(parse(line()));
    expect(a).toEqual(b);
  });

  it('treats null optional fields as absent', () => {
    const row = ok(parse(line({ claims: null, evidence: null, scores: null, risk_flags: null, explainability: null, signals: null, triggers: null, decision: null })));
    expect(row).toEqual(ok(parse(line())));
  });

  it('strips a leading BOM and a trailing \\r', () => {
    expect(ok(parse(`\uFEFF${line()}\r`))).toEqual(ok(parse(line())));
  });

  it('accepts an evidence string or object, keeping objects verbatim (extra keys included)', () => {
    const evidence = ['https://a.example/x', { url: 'https://b.example/y', source: null, published_at: '2024', note: 'kept' }];
    expect(JSON.parse(ok(parse(line({ evidence }))).evidenceJson)).toEqual(evidence);
  });
});

describe('parseIntelLine() *_json synonyms', () => {
  it('accepts each synonym with an array/object value', () => {
    const row = ok(parse(line({
      claims_json: ['c'], evidence_json: twoSources, scores_json: scores, risk_flags_json: ['legal_review'], explainability_json: ['e'],
    })));
    expect(JSON.parse(row.claimsJson)).toEqual(['c']);
    expect(JSON.parse(row.evidenceJson)).toEqual(twoSources);
    expect(row.trendScore).toBe(76.3);
    expect(JSON.parse(row.riskFlagsJson)).toEqual(['legal_review']);
    expect(JSON.parse(row.explainabilityJson)).toEqual(['e']);
  });

  it('parses a synonym holding JSON text, as the original store serialised it', () => {
    const row = ok(parse(line({ claims_json: '["c"]', scores_json: JSON.stringify(scores), evidence_json: JSON.stringify(twoSources) })));
    expect(JSON.parse(row.claimsJson)).toEqual(['c']);
    expect(row.trendScore).toBe(76.3);
  });

  it('lets the plain key win when both are present', () => {
    const row = ok(parse(line({ claims: ['plain'], claims_json: ['synonym'] })));
    expect(JSON.parse(row.claimsJson)).toEqual(['plain']);
  });

  it('falls back to the synonym when the plain key is null', () => {
    expect(JSON.parse(ok(parse(line({ claims: null, claims_json: ['s'] }))).claimsJson)).toEqual(['s']);
  });

  it('rejects a synonym whose text is not JSON as invalid_value, naming the synonym', () => {
    const r = rejected(parse(line({ claims_json: '[oops' })));
    expect(r.code).toBe('invalid_value');
    expect(r.reason).toContain('`claims_json`');
  });

  it('names the synonym in wrong_type reasons', () => {
    expect(rejected(parse(line({ risk_flags_json: [1] }))).reason).toBe('Expected `risk_flags_json[0]` to be a string, got 1 (number)');
  });
});

describe('parseIntelLine() rejects', () => {
  it('records the line number, code, reason and excerpt', () => {
    const text = line({ scores: { ...scores, confidence: 'high' } });
    expect(parseIntelLine(text, 17, config)).toEqual({
      ok: false,
      reject: { lineNo: 17, code: 'wrong_type', reason: 'Expected `scores.confidence` to be a number from 0 to 10, got "high" (string)', excerpt: text.slice(0, 200) },
    });
  });

  it.each([
    ['invalid_json', '{"item_id": "x", '],
    ['invalid_json', '   '],
    ['invalid_json', "{'single': 'quotes'}"],
    ['invalid_json', 'NaN'],
    ['not_an_object', '[1, 2, 3]'],
    ['not_an_object', '"a string"'],
    ['not_an_object', '42'],
    ['not_an_object', 'null'],
    ['missing_field', JSON.stringify({ item_type: 'news', title: 't', summary: '' })],
    ['missing_field', JSON.stringify({ item_id: 'x', title: 't', summary: '' })],
    ['missing_field', JSON.stringify({ item_id: 'x', item_type: 'news', summary: '' })],
    ['missing_field', JSON.stringify({ item_id: 'x', item_type: 'news', title: 't' })],
    ['missing_field', line({ scores: { impact: 1, timeliness: 1, virality: 1, relevance: 1 } })],
    ['wrong_type', line({ item_id: 7 })],
    ['wrong_type', line({ item_id: null })],
    ['wrong_type', line({ title: ['t'] })],
    ['wrong_type', line({ summary: 42 })],
    ['wrong_type', line({ claims: 'one claim' })],
    ['wrong_type', line({ evidence: [42] })],
    ['wrong_type', line({ evidence: [['https://a.b']] })],
    ['wrong_type', line({ evidence: [{ url: 5 }] })],
    ['wrong_type', line({ scores: [1, 2, 3, 4, 5] })],
    ['wrong_type', line({ scores: { ...scores, impact: '20' } })],
    ['wrong_type', line({ risk_flags: [null] })],
    ['wrong_type', line({ explainability: 'because' })],
    ['wrong_type', line({ signals: { brigading_suspected: 'yes' } })],
    ['wrong_type', line({ signals: true })],
    ['wrong_type', line({ triggers: [1] })],
    ['wrong_type', line({ decision: 1 })],
    ['wrong_type', line({ decision_reason: 5 })],
    ['wrong_type', line({ created_at: 1714560000 })],
    ['out_of_range', line({ scores: { ...scores, confidence: 11 } })],
    ['out_of_range', line({ scores: { ...scores, impact: 25.01 } })],
    ['out_of_range', line({ scores: { ...scores, virality: -1 } })],
    ['out_of_range', line({ scores: { ...scores, virality: 21 } })],
    ['out_of_range', line().replace('}', ',"scores":{"impact":1e999,"timeliness":1,"virality":1,"relevance":1,"confidence":1}}')],
    ['out_of_range', line().replace('}', ',"scores":{"impact":-1e999,"timeliness":1,"virality":1,"relevance":1,"confidence":1}}')],
    ['invalid_timestamp', line({ created_at: 'yesterday' })],
    ['invalid_timestamp', line({ created_at: 'March 7, 2024' })],
    ['invalid_timestamp', line({ created_at: '2024-02-30T00:00:00Z' })],
    ['invalid_timestamp', line({ created_at: '2023-02-29' })],
    ['invalid_timestamp', line({ created_at: '2024-05-01T24:00:00Z' })],
    ['invalid_timestamp', line({ created_at: '2024-05-01T12:00:00+25:00' })],
    ['invalid_timestamp', line({ created_at: '2024-5-1' })],
    ['invalid_timestamp', line({ created_at: '' })],
    ['invalid_value', line({ item_id: '' })],
    ['invalid_value', line({ item_id: 'a\u0000b' })],
    ['invalid_value', line({ item_id: 'tab\there' })],
    ['invalid_value', line({ item_id: 'x\u0085' })],
    ['invalid_value', line({ item_id: 'x'.repeat(201) })],
    ['invalid_value', line({ item_type: '' })],
    ['invalid_value', line({ item_type: 't'.repeat(65) })],
    ['invalid_value', line({ title: '' })],
    ['invalid_value', line({ title: '   ' })],
    ['invalid_value', line({ decision: 'approve' })],
    ['invalid_value', line({ decision: 'Promote' })],
  ] as const)('%s: %s', (code, text) => {
    expect(codeOf(text)).toBe(code);
  });

  it('rejects a line over the byte limit as line_too_long', () => {
    const text = line({ summary: 'x'.repeat(200) });
    const r = rejected(parseIntelLine(text, 3, config, 100));
    expect(r.code).toBe('line_too_long');
    expect(r.reason).toBe('Line is longer than the limit of 100 bytes');
  });

  it('measures the limit in UTF-8 bytes, not characters', () => {
    const text = line({ summary: 'é'.repeat(100) }); // 100 characters, 200 bytes
    const bytes = Buffer.byteLength(text);
    expect(ok(parseIntelLine(text, 1, config, bytes)).summary).toBe('é'.repeat(100));
    expect(rejected(parseIntelLine(text, 1, config, bytes - 1)).code).toBe('line_too_long');
  });

  it('defaults the line limit to 1 MiB', () => {
    expect(DEFAULT_MAX_LINE_BYTES).toBe(1_048_576);
    expect(codeOf(line({ summary: 'x'.repeat(1_048_576) }))).toBe('line_too_long');
    expect(ok(parse(line({ summary: 'x'.repeat(1_000_000) }))).summary).toHaveLength(1_000_000);
  });

  it('counts item_id characters as code points (200 emoji are allowed)', () => {
    expect(ok(parse(line({ item_id: '😀'.repeat(200) }))).itemId).toHaveLength(400);
    expect(codeOf(line({ item_id: '😀'.repeat(201) }))).toBe('invalid_value');
  });

  it('writes reasons that name the field, the expectation and what came', () => {
    const reason = (over: Record<string, unknown>) => rejected(parse(line(over))).reason;
    expect(reason({ decision: 'approve' })).toBe('Expected `decision` to be one of "promote", "monitor", "block" or null, got "approve" (string)');
    expect(reason({ scores: { ...scores, virality: 21 } })).toBe('Expected `scores.virality` to be a number from 0 to 20, got 21 (number)');
    expect(reason({ evidence: ['ok', { url: ['x'] }] })).toBe('Expected `evidence[1].url` to be a string or null, got an array');
    expect(reason({ created_at: 'yesterday' })).toBe('Expected `created_at` to be an ISO-8601 timestamp such as "2024-05-01T12:00:00Z", got "yesterday" (string)');
    expect(rejected(parse(JSON.stringify({ item_id: 'x', item_type: 't', summary: '' }))).reason).toBe('Missing required field `title` (expected a non-empty string)');
    expect(rejected(parse('[1]')).reason).toBe('Expected the line to be a JSON object, got an array');
    expect(rejected(parse('{"a":')).reason).toMatch(/^Line is not valid JSON: /);
  });

  it('bounds the reason when the offending value is huge', () => {
    expect(rejected(parse(line({ decision: 'x'.repeat(100_000) }))).reason.length).toBeLessThan(200);
  });

  it('keeps at most 200 characters of the line as the excerpt', () => {
    const text = `[${'"abc",'.repeat(1000)}1]`;
    expect(rejected(parse(text)).excerpt).toBe(text.slice(0, 200));
  });

  it('never splits a surrogate pair in the excerpt', () => {
    const text = `[${'x'.repeat(198)}😀😀]`; // the 200th UTF-16 unit is the first half of an emoji
    const excerpt = rejected(parse(text)).excerpt;
    expect(excerpt).toBe(`[${'x'.repeat(198)}`);
    expect(excerpt.length).toBeLessThanOrEqual(200);
  });
});

describe('parseIntelLine() on hostile input', () => {
  it('does not pollute Object.prototype through __proto__ or constructor keys', () => {
    const text = '{"item_id":"p","item_type":"news","title":"t","summary":"s","__proto__":{"polluted":true,"item_type":"x"},'
      + '"constructor":{"prototype":{"polluted":true}},"claims":[{"__proto__":{"polluted":true}}],'
      + '"evidence":[{"url":"https://a.com","__proto__":{"polluted":true}}],"signals":{"__proto__":{"brigading_suspected":true}},'
      + '"scores":{"__proto__":{"impact":25},"impact":1,"timeliness":1,"virality":1,"relevance":1,"confidence":5}}';
    const row = ok(parse(text));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(row.itemType).toBe('news');
    expect(JSON.parse(row.scoresJson).impact).toBe(1);
    // The data is kept as data: the own "__proto__" key survives the round trip.
    expect(row.claimsJson).toBe('[{"__proto__":{"polluted":true}}]');
    expect(JSON.parse(row.explainabilityJson)).not.toContain(NOTE_BRIGADING);
  });

  it('does not take a missing field from an own "__proto__" key', () => {
    const text = line().replace('}', ',"scores":{"__proto__":{"impact":25},"timeliness":1,"virality":1,"relevance":1,"confidence":5}}');
    expect(rejected(parse(text)).reason).toBe('Missing required field `scores.impact` (expected a number from 0 to 25)');
  });

  it('treats own keys named like Object.prototype members as plain data', () => {
    const row = ok(parse(line({ toString: 'x', hasOwnProperty: 1, valueOf: null })));
    expect(row.itemId).toBe('it-1');
  });

  it('keeps SQL-looking strings verbatim', () => {
    const sql = "x'); DROP TABLE intel_items; --";
    const row = ok(parse(line({ item_id: sql, title: sql, claims: [sql], risk_flags: [sql] })));
    expect([row.itemId, row.title, JSON.parse(row.claimsJson)[0], JSON.parse(row.riskFlagsJson)[0]]).toEqual([sql, sql, sql, sql]);
  });

  it('accepts deep nesting in ignored fields without recursing on it', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(ok(parse(line().replace('}', `,"unknown":${deep}}`))).itemId).toBe('it-1');
  });

  it('rejects, without throwing, nesting too deep to store', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const r = rejected(parse(line().replace('}', `,"claims":${deep}}`)));
    expect(r.code).toBe('invalid_value');
    expect(r.reason).toMatch(/nests arrays\/objects too deeply/);
  });

  it('stores moderately deep claims verbatim', () => {
    const deep = JSON.parse(`${'['.repeat(500)}1${']'.repeat(500)}`) as unknown;
    expect(JSON.parse(ok(parse(line({ claims: [deep] }))).claimsJson)).toEqual([deep]);
  });

  it('rejects lone surrogates in the plain text columns as invalid_value', () => {
    for (const field of ['item_id', 'item_type', 'title', 'summary']) {
      expect(codeOf(line().replace('}', `,"${field}":"a\\ud800b"}`))).toBe('invalid_value');
    }
    expect(codeOf(line({ decision: 'block' }).replace('}', ',"decision_reason":"\\udc00"}'))).toBe('invalid_value');
  });

  it('keeps lone surrogates inside JSON columns verbatim (escaped)', () => {
    const row = ok(parse(line().replace('}', ',"claims":["a\\ud800b"]}')));
    expect(row.claimsJson).toBe('["a\\ud800b"]');
    expect(JSON.parse(row.claimsJson)).toEqual(['a\ud800b']);
  });

  it('keeps well-formed astral characters everywhere', () => {
    const row = ok(parse(line({ title: '𝄞 東京 🎉', claims: ['✊🏽'] })));
    expect(row.title).toBe('𝄞 東京 🎉');
    expect(JSON.parse(row.claimsJson)).toEqual(['✊🏽']);
  });

  it('handles huge strings within the limit', () => {
    const big = '🎉'.repeat(200_000);
    expect(ok(parse(line({ title: big }))).title).toBe(big);
  });
});

describe('contentHash()', () => {
  const base = ok(parse(line({ scores, evidence: twoSources })));

  it('ignores created_at, run_id and unknown fields', () => {
    const other = ok(parse(line({ scores, evidence: twoSources, created_at: '2020-01-01T00:00:00Z', run_id: 'r', zzz: 1 })));
    expect(contentHash(other)).toBe(contentHash(base));
  });

  it('changes when any content field changes', () => {
    const variants = [
      { title: 'Another' }, { summary: 'x' }, { item_type: 'video' }, { claims: ['c'] }, { risk_flags: ['legal_review'] },
      { explainability: ['e'] }, { decision: 'monitor' }, { scores: { ...scores, impact: 19 } }, { evidence: [] },
    ];
    const hashes = new Set(variants.map((v) => contentHash(ok(parse(line({ scores, evidence: twoSources, ...v }))))));
    expect(hashes.size).toBe(variants.length);
    expect(hashes.has(contentHash(base))).toBe(false);
  });

  it('keeps field boundaries unambiguous', () => {
    const a = { ...base, title: 'ab', summary: 'c' };
    const b = { ...base, title: 'a', summary: 'bc' };
    expect(contentHash(a)).not.toBe(contentHash(b));
    expect(contentHash({ ...base, decisionReason: null })).not.toBe(contentHash({ ...base, decisionReason: '' }));
  });

  it('gives the digests earlier versions stored (IntelItem.contentHash keeps its values)', () => {
    // Digests of the text format documented in hash.ts, as computed by the
    // version that first stored them.
    const c = {
      itemType: 'news', title: 'Ünïcode title 東京 🗳️', summary: '', claimsJson: '["a"]', evidenceJson: '[]',
      scoresJson: '{"impact":20,"timeliness":15,"virality":10,"relevance":22,"confidence":8,"trend_score":73.5}',
      riskFlagsJson: '[]', explainabilityJson: '[]', decision: 'promote', decisionReason: 'optional: score 73.5 >= 60',
    } as const;
    expect(contentHash(c)).toBe('a85deaa6e6d047e069f5e715921dfc86c652b729');
    expect(contentHash({ ...c, decision: null, decisionReason: null })).toBe('6e3e76e43886b309f9ce5e0555651036cabb839c');
  });
});

describe('urlHostname()', () => {
  const urls = [
    'https://www.reuters.com/a', 'HTTP://WWW.BBC.CO.UK', 'https://apnews.com:443/x?y#z', 'https://a.com.', 'https://a.com:/x',
    'https://0x7f.1/', 'http://1.2.3.4/', 'https://bücher.ch/x', 'https://xn--bcher-kva.ch', 'https://user:pw@host.com/',
    'https:///x.com/', 'https:/x.com', ' https://x.com', 'https://a.com\\b', 'https://[::1]:8080/', 'https://a_b.com',
    'https://%78.com', 'ftp://files.example.org/x', 'https://a.b.c.1a/',
  ];
  it.each(urls)('agrees with new URL(%s).hostname', (u) => {
    expect(urlHostname(u)).toBe(new URL(u).hostname);
  });

  it.each(['not a url', 'https://', 'https://a.com:99999/', 'mailto:x@y.z', '', 'https://xn--a.com'])('returns null for %j', (u) => {
    expect(urlHostname(u)).toBeNull();
  });
});

describe('parseIsoTimestamp()', () => {
  it('takes a date-time without offset as UTC, whatever the machine time zone', () => {
    expect(parseIsoTimestamp('2024-05-01T12:00:00')).toBe('2024-05-01T12:00:00.000Z');
  });
  it('accepts a space separator, a comma fraction, compact and hour-only offsets', () => {
    expect(parseIsoTimestamp('2024-05-01 12:00:00,5+0130')).toBe('2024-05-01T10:30:00.500Z');
    expect(parseIsoTimestamp('2024-05-01T12:00-05')).toBe('2024-05-01T17:00:00.000Z');
  });
  it('accepts 29 February in a leap year only', () => {
    expect(parseIsoTimestamp('2000-02-29')).toBe('2000-02-29T00:00:00.000Z');
    expect(parseIsoTimestamp('1900-02-29')).toBeNull();
  });
  it('validates an already canonical timestamp too', () => {
    expect(parseIsoTimestamp('2024-04-31T00:00:00.000Z')).toBeNull();
    expect(parseIsoTimestamp('2024-04-30T23:59:59.999Z')).toBe('2024-04-30T23:59:59.999Z');
  });
  it('rejects the canonical shape with a non-ASCII digit, a sign or a wrong separator', () => {
    for (const t of ['2024-0١-01T00:00:00.000Z', '2024-01-01T00:00:00.00+Z', '2024-01-01T00:0-:00.000Z', '+024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000z0']) {
      expect(parseIsoTimestamp(t)).toBeNull();
    }
    expect(parseIsoTimestamp('2024-12-31T23:59:59.000z')).toBe('2024-12-31T23:59:59.000Z');
    expect(parseIsoTimestamp('2024-02-29T24:00:00.000Z')).toBeNull();
  });
  it('keeps years 0-99 as written', () => {
    expect(parseIsoTimestamp('0050-06-01T00:00:00+01:00')).toBe('0050-05-31T23:00:00.000Z');
  });
});

describe('parseIntelLine() on generated items (property)', () => {
  it('round-trips every valid generated item: JSON columns equal the normalised input', () => {
    let checked = 0;
    for (const { line: text, bad } of generateRecords({ count: 3000, seed: 99 })) {
      expect(bad).toBeNull();
      const input = JSON.parse(text) as Record<string, unknown>;
      const row = ok(parse(text));
      const explain = JSON.parse(row.explainabilityJson) as string[];
      const given = (input.explainability ?? []) as string[];
      expect(row.itemId).toBe(input.item_id);
      expect(row.itemType).toBe(input.item_type);
      expect(row.title).toBe(input.title);
      expect(row.summary).toBe(input.summary);
      expect(JSON.parse(row.claimsJson)).toEqual(input.claims ?? []);
      expect(JSON.parse(row.evidenceJson)).toEqual(input.evidence ?? []);
      expect(JSON.parse(row.riskFlagsJson)).toEqual(input.risk_flags ?? []);
      expect(explain.slice(0, given.length)).toEqual(given);
      expect(explain.slice(given.length).every((n) => n.startsWith('Penalty: '))).toBe(true);
      if (input.scores === undefined) {
        expect([row.scoresJson, row.trendScore]).toEqual(['null', null]);
        expect(explain).toEqual(given);
      } else {
        const stored = JSON.parse(row.scoresJson) as Record<string, number>;
        expect(Object.keys(stored)).toEqual(['impact', 'timeliness', 'virality', 'relevance', 'confidence', 'trend_score']);
        expect(stored.trend_score).toBe(row.trendScore);
        const s = input.scores as Record<string, number>;
        expect([stored.impact, stored.timeliness, stored.relevance]).toEqual([s.impact, s.timeliness, s.relevance]);
      }
      expect(row.createdAt).toBe(input.created_at === undefined ? null : new Date(input.created_at as string).toISOString());
      checked++;
    }
    expect(checked).toBe(3000);
  });
});
