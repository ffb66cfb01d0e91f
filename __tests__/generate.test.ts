import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../src/config';
import { parseIntelLine } from '../src/domain';
import { BAD_LINE_KINDS, describeBadLine, generateLines, generateRecords, writeFeed } from '../src/gen/generate';

const take = (opts: Parameters<typeof generateLines>[0]) => [...generateLines(opts)];

describe('generateLines()', () => {
  it('is deterministic for a seed', () => {
    expect(take({ count: 500, seed: 5, badRatio: 0.05, duplicateRatio: 0.1 })).toEqual(take({ count: 500, seed: 5, badRatio: 0.05, duplicateRatio: 0.1 }));
  });

  it('gives different feeds for different seeds', () => {
    expect(take({ count: 50, seed: 1 })).not.toEqual(take({ count: 50, seed: 2 }));
  });

  it('yields exactly count lines, without newlines', () => {
    const lines = take({ count: 1234, badRatio: 0.1 });
    expect(lines).toHaveLength(1234);
    expect(lines.some((l) => l.includes('\n') || l.trim() === '')).toBe(false);
  });

  it('yields nothing for count 0', () => expect(take({ count: 0 })).toEqual([]));

  it('averages about 800 bytes a line, with non-ASCII text', () => {
    const lines = take({ count: 5000, seed: 3 });
    const avg = lines.reduce((n, l) => n + Buffer.byteLength(l), 0) / lines.length;
    expect(avg).toBeGreaterThan(700);
    expect(avg).toBeLessThan(900);
    expect(lines.filter((l) => /[^ -~]/.test(l)).length).toBeGreaterThan(lines.length * 0.9);
    expect(lines.some((l) => /[\u4e00-\u9fff]/.test(l))).toBe(true);
    expect(lines.some((l) => /\p{Extended_Pictographic}/u.test(l))).toBe(true);
  });

  it('gives unique item ids item-<seed>-<n> when duplicateRatio is 0', () => {
    const ids = take({ count: 2000, seed: 9 }).map((l) => (JSON.parse(l) as { item_id: string }).item_id);
    expect(new Set(ids).size).toBe(2000);
    expect(ids[0]).toBe('item-9-1');
    expect(ids[1999]).toBe('item-9-2000');
  });

  it('repeats earlier ids at about duplicateRatio', () => {
    const ids = take({ count: 4000, duplicateRatio: 0.25 }).map((l) => (JSON.parse(l) as { item_id: string }).item_id);
    const repeats = ids.length - new Set(ids).size;
    expect(repeats).toBeGreaterThan(600);
    expect(repeats).toBeLessThan(1100);
  });

  it('pads each good line to exactly lineBytes with ASCII words, the items otherwise those of the seed', () => {
    const goodLines = (lineBytes: number) => [...generateRecords({ count: 200, seed: 6, badRatio: 0.05, lineBytes })]
      .filter((r) => r.bad === null).map((r) => JSON.parse(r.line) as Record<string, unknown>);
    const [plain, long] = [goodLines(0), goodLines(5000)];
    expect(long).toHaveLength(190);
    expect(take({ count: 200, seed: 6, lineBytes: 5000 }).every((l) => Buffer.byteLength(l) === 5000)).toBe(true);
    long.forEach((b, i) => {
      const a = plain[i] as Record<string, unknown>;
      const [summary, padded] = [String(a.summary), String(b.summary)];
      expect(padded.startsWith(`${summary} `)).toBe(true);
      expect(padded.slice(summary.length + 1)).toMatch(/^[a-z ]+$/);
      expect({ ...b, summary }).toEqual(a);
    });
    expect(take({ count: 3, lineBytes: 100 })).toEqual(take({ count: 3 })); // already longer: as they are
  });

  it('rejects impossible options with a message naming the option', () => {
    expect(() => take({ count: -1 })).toThrow('Expected `count` to be a non-negative integer, got `-1` (number)');
    expect(() => take({ count: 1, badRatio: 2 })).toThrow('`badRatio`');
    expect(() => take({ count: 1, duplicateRatio: Number.NaN })).toThrow('`duplicateRatio`');
    expect(() => take({ count: 1, seed: 1.5 })).toThrow('`seed`');
    expect(() => take({ count: 1, lineBytes: -1 })).toThrow('Expected `lineBytes` to be a non-negative integer, got `-1` (number)');
  });
});

describe('generateRecords()', () => {
  const config = DEFAULT_CONFIG;

  it('parses every good line and rejects every bad line with the code its kind names', () => {
    const seen = new Map<string, number>();
    let n = 0;
    let bad = 0;
    for (const r of generateRecords({ count: 7000, badRatio: 0.01, seed: 4 })) {
      const p = parseIntelLine(r.line, ++n, config);
      if (r.bad === null) {
        expect(p.ok).toBe(true);
      } else {
        bad++;
        expect(p.ok ? null : p.reject.code).toBe(r.bad);
        seen.set(r.bad, (seen.get(r.bad) ?? 0) + 1);
      }
    }
    expect(bad).toBe(70);
    expect([...seen.keys()].sort()).toEqual([...BAD_LINE_KINDS].sort());
    expect(Math.min(...seen.values())).toBe(10); // cycled evenly
  });

  it('describes each bad line kind', () => {
    for (const kind of BAD_LINE_KINDS) expect(describeBadLine(kind)).toMatch(/\w/);
  });

  it('makes every gate rule fire over a large sample', () => {
    const reasons = new Set<string>();
    let n = 0;
    for (const line of generateLines({ count: 20_000, seed: 8 })) {
      const p = parseIntelLine(line, ++n, config);
      if (!p.ok) throw new Error(p.reject.reason);
      const r = p.row;
      reasons.add(r.decisionReason === null ? (r.decision === null ? 'no scores' : 'manual') : r.decisionReason.replace(/[:\s].*$/, ''));
    }
    expect([...reasons].sort()).toEqual(expect.arrayContaining([
      'always-cover', 'below', 'confidence', 'editor', 'forbidden', 'manual', 'must-cover', 'no scores', 'optional', 'watch',
    ]));
  });
});

describe('writeFeed()', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'bo-gen-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the same lines as generateLines, one per newline, and reports counts', async () => {
    const file = join(dir, 'feed.ndjson');
    const opts = { count: 3000, badRatio: 0.01, seed: 12 };
    const written = await writeFeed(file, opts);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(`${take(opts).join('\n')}\n`);
    expect(written).toEqual({ lines: 3000, bytes: Buffer.byteLength(text) });
  });

  it('fails when the file cannot be created', async () => {
    await expect(writeFeed(join(dir, 'missing', 'feed.ndjson'), { count: 10 })).rejects.toThrow(/ENOENT/);
  });
});
