import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/backend';
import { StateStore } from '../src/sqlite';
import { tempDir } from './helpers/tmp';

interface Case { name: string; line?: string; bytes?: string; build?: 'huge' | 'deepIgnored'; expect: string; last?: boolean }
const corpus = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'hostile-corpus.json'), 'utf8')) as { cases: Case[] };

function bytesOf(c: Case): Buffer {
  if (c.line !== undefined) return Buffer.from(c.line, 'utf8');
  if (c.bytes !== undefined) return Buffer.from(c.bytes, 'hex');
  if (c.build === 'huge') return Buffer.from(JSON.stringify({ item_id: 'huge', item_type: 'news', title: 't', summary: 'x'.repeat(10 * 1024 * 1024) }));
  const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
  return Buffer.from(`{"item_id":"deep","item_type":"news","title":"t","summary":"s","ignored":${deep}}`);
}

/** A chunk size that puts dup-1's two lines in one chunk and dup-2's in two. */
function chunkSizeFor(cases: Case[]): number {
  const at = (name: string) => cases.findIndex((c) => c.name.startsWith(name));
  const [a, b] = [at('duplicate id inside the first chunk (first'), at('duplicate id inside the first chunk (second')];
  const [c, d] = [at('item delivered twice across chunks (first'), at('item delivered twice across chunks (last')];
  for (let size = 3; size < cases.length; size++) {
    if (Math.floor(a / size) === Math.floor(b / size) && Math.floor(c / size) !== Math.floor(d / size)) return size;
  }
  throw new Error('no chunk size splits the duplicates as the corpus intends');
}

describe('hostile-input corpus', () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => { t = tempDir('bo-hostile-'); });
  afterAll(() => t.cleanup());

  it('gives every line its expected outcome, stores hostile text verbatim and keeps the tables intact', async () => {
    const cases = corpus.cases;
    const parts: Buffer[] = [];
    cases.forEach((c, i) => { parts.push(bytesOf(c)); if (i < cases.length - 1 || !c.last) parts.push(Buffer.from('\n')); });
    const feed = join(t.dir, 'hostile.ndjson');
    writeFileSync(feed, Buffer.concat(parts));
    const chunkSize = chunkSizeFor(cases);
    // Mostly hostile on purpose: the reject-ratio limit would fail the run.
    const s = await runPipeline({ input: feed, dbPath: t.db, workers: 2, chunkSize, maxRejectRatio: 'none' });

    using store = StateStore.open(t.db);
    const rejects = new Map(store.listRejects(s.runId).map((r) => [r.lineNo, r]));
    cases.forEach((c, i) => {
      const got = rejects.get(i + 1)?.code ?? (c.expect === 'blank' ? 'blank' : 'accepted');
      expect({ line: i + 1, name: c.name, outcome: got }).toEqual({ line: i + 1, name: c.name, outcome: c.expect });
    });
    for (const r of rejects.values()) expect(r.excerpt.length).toBeLessThanOrEqual(200);

    const accepted = cases.filter((c) => c.expect === 'accepted').length;
    expect(s).toMatchObject({
      linesRead: cases.length, blankLines: cases.filter((c) => c.expect === 'blank').length,
      rejected: cases.filter((c) => !['accepted', 'blank'].includes(c.expect)).length,
      updated: 2, unchanged: 1, inserted: accepted - 3,
    });
    expect(store.getIntelItem('dup-1')?.title).toBe('second');
    expect(store.getIntelItem('dup-2')?.title).toBe('late');

    const sql = "'); DROP TABLE intel_items; --";
    const evil = store.getIntelItem(`sql${sql}`);
    expect(evil).toMatchObject({ itemType: `news${sql}`, title: `t${sql}`, summary: sql, claims: [sql], riskFlags: [sql], decisionReason: sql });
    expect(JSON.parse(JSON.stringify(store.getIntelItem('proto-2')?.claims))).toEqual([{ ['__proto__']: { polluted: true } }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(store.checkIntegrity()).toEqual([]);
    const db = new Database(t.db, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get()).toBe(5);
    db.close();
  });
});
