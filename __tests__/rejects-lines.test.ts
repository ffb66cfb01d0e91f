/**
 * `ingest --rejects-lines PATH`: each rejected line exactly as it came, in
 * input order, so the file can be fixed and ingested again; capped at whole
 * lines; refused for an input that cannot be read twice; written through the
 * same guard and temporary file as `--rejects`. On SQLite and PostgreSQL.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeRejectedLines } from '../src/cli/rejects-lines';
import { withReadStore } from '../src/backend/open-read-store';
import { parseDbTarget } from '../src/store/target';
import { logLines, runCli } from './helpers/cli';
import { itemLine, mixedFeed } from './helpers/lines';
import { scratchDb, type ScratchDb } from './helpers/pg';
import { tempDir } from './helpers/tmp';

jest.setTimeout(60_000);

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-rejects-lines-'); });
afterEach(() => t.cleanup());

const cli = (args: string[], input?: string) => runCli(args, { cwd: t.dir, input });
const NL = Buffer.from('\n');

/** A feed of `lines` joined by "\n", with a final "\n" unless `unterminated`. */
function writeFeed(name: string, lines: readonly (string | Buffer)[], unterminated = false): { path: string; bytes: Buffer } {
  const parts = lines.flatMap((l, i) => (i === lines.length - 1 && unterminated ? [Buffer.from(l)] : [Buffer.from(l), NL]));
  const bytes = Buffer.concat(parts);
  const path = join(t.dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** What --rejects-lines must hold: each line, "\n" after it. */
function asRejectsLines(lines: readonly (string | Buffer)[]): Buffer {
  return Buffer.concat(lines.flatMap((l) => [Buffer.from(l), NL]));
}

function summaryOf(r: ReturnType<typeof cli>): { rejected: number; inserted: number; rejects_lines?: Record<string, unknown> } {
  return JSON.parse(r.stdout) as { rejected: number; inserted: number; rejects_lines?: Record<string, unknown> };
}

const tempFiles = () => readdirSync(t.dir).filter((f) => f.endsWith('.tmp'));

/** A valid item line with its `title` key misspelt: rejected (`missing_field`), fixed by spelling it right. */
const misspelt = (id: string) => itemLine(id).replace('"title"', '"titel"');

/** Invalid JSON, a "\r\n" line, non-ASCII, invalid UTF-8, a line over the 1 MiB line limit and a missing field, among good and blank lines. */
function hostileFeed(): { all: (string | Buffer)[]; bad: (string | Buffer)[] } {
  const bad: (string | Buffer)[] = [
    '{"item_id": "broken", ',
    '[1,2,3]\r',
    'ünïcödé ✓ — {',
    Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    `{"item_id":"${'x'.repeat(1_100_000)}"}`,
    misspelt('m1'),
    'the last line, without a newline {',
  ];
  const all = [itemLine('a'), bad[0]!, '', `${itemLine('b')}\r`, bad[1]!, bad[2]!, itemLine('c'), bad[3]!, '   ', bad[4]!, itemLine('d'), bad[5]!, bad[6]!];
  return { all, bad };
}

describe('ingest --rejects-lines PATH', () => {
  it('holds each rejected line byte for byte, in input order, each ended by "\\n", across chunks and workers', () => {
    const { all, bad } = hostileFeed();
    const feed = writeFeed('feed.ndjson', all, true);
    const out = join(t.dir, 'rejected.ndjson');
    const r = cli(['ingest', feed.path, '--db', t.db, '--chunk-size', '3', '--workers', '2', '--max-reject-ratio', 'none', '--json', '--rejects-lines', out]);
    expect(r.status).toBe(0);
    const expected = asRejectsLines(bad);
    expect(readFileSync(out).equals(expected)).toBe(true);
    expect(summaryOf(r)).toMatchObject({
      rejected: 7, rejects_lines: { path: out, lines_written: 7, rejected: 7, bytes: expected.length, truncated: false, max_bytes: 64 * 1024 * 1024 },
    });
    expect(tempFiles()).toEqual([]);
  });

  it('gives a file that ingests again: as written, the same lines are rejected (and written again byte for byte); fixed, they load', () => {
    const good = mixedFeed(40).lines;
    const bad = [misspelt('f1'), `${misspelt('f2')}\r`, misspelt('f3')];
    const feed = writeFeed('feed.ndjson', [...good.slice(0, 10), bad[0]!, ...good.slice(10, 25), bad[1]!, ...good.slice(25), bad[2]!]);
    const out = join(t.dir, 'rejected.ndjson');
    expect(summaryOf(cli(['ingest', feed.path, '--db', t.db, '--json', '--rejects-lines', out]))).toMatchObject({ inserted: 40, rejected: 3 });

    const again = join(t.dir, 'again.ndjson');
    const r = cli(['ingest', out, '--db', t.db, '--json', '--max-reject-ratio', 'none', '--rejects-lines', again]);
    expect(summaryOf(r)).toMatchObject({ inserted: 0, rejected: 3 });
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);

    writeFileSync(out, readFileSync(out, 'latin1').replaceAll('"titel"', '"title"'), 'latin1');
    expect(summaryOf(cli(['ingest', out, '--db', t.db, '--json']))).toMatchObject({ inserted: 3, rejected: 0 });
  });

  it('copies the lines of a gzip input decompressed, as the run read them', () => {
    const { all, bad } = hostileFeed();
    const plain = writeFeed('feed.ndjson', all, true);
    const gz = join(t.dir, 'feed.ndjson.gz');
    writeFileSync(gz, gzipSync(plain.bytes));
    const out = join(t.dir, 'rejected.ndjson');
    const r = cli(['ingest', gz, '--db', t.db, '--chunk-size', '4', '--max-reject-ratio', 'none', '--json', '--rejects-lines', out]);
    expect(r.status).toBe(0);
    expect(readFileSync(out).equals(asRejectsLines(bad))).toBe(true);
  });

  it('holds the lines rejected before a resume and after it, and is written for the failed run too', () => {
    const { lines } = mixedFeed(300, 10);
    const feed = writeFeed('feed.ndjson', lines);
    const out = join(t.dir, 'rejected.ndjson');
    const failed = cli(['ingest', feed.path, '--db', t.db, '--run-id', 'n1', '--chunk-size', '100', '--workers', '1', '--max-rejects', '5', '--json', '--rejects-lines', out]);
    expect(failed.status).toBe(1);
    const db = new Database(t.db, { readonly: true });
    const rejectedNow = db.prepare("SELECT line_no FROM run_rejects WHERE run_id = 'n1' ORDER BY line_no").pluck().all() as number[];
    db.close();
    expect(rejectedNow.length).toBeGreaterThan(0);
    expect(rejectedNow.length).toBeLessThan(30);
    expect(summaryOf(failed)).toMatchObject({ rejects_lines: { lines_written: rejectedNow.length, rejected: rejectedNow.length, truncated: false } });
    expect(readFileSync(out).equals(asRejectsLines(rejectedNow.map((n) => lines[n - 1]!)))).toBe(true);

    const resumed = cli(['ingest', feed.path, '--db', t.db, '--resume', 'n1', '--json', '--rejects-lines', out]);
    expect(summaryOf(resumed)).toMatchObject({ rejected: 30, rejects_lines: { lines_written: 30, rejected: 30 } });
    expect(readFileSync(out).equals(asRejectsLines(lines.filter((_, i) => (i + 1) % 10 === 0)))).toBe(true);
  });
});

describe('ingest --rejects-lines-max-bytes N', () => {
  // Rejected lines of 10, 20, 30, 40 and 50 bytes, each with its "\n".
  const bad = [9, 19, 29, 39, 49].map((n) => `[${'1'.repeat(n - 2)}]`);
  const feedLines = bad.flatMap((b, i) => [itemLine(`ok-${i}`), b]);

  it('stops before the first line that would not fit, writing whole lines only, and the summary says how many of how many', () => {
    const feed = writeFeed('feed.ndjson', feedLines);
    const out = join(t.dir, 'rejected.ndjson');
    const summary = join(t.dir, 'summary.json');
    const args = ['ingest', feed.path, '--db', t.db, '--max-reject-ratio', 'none', '--rejects-lines', out, '--rejects-lines-max-bytes', '59'];
    const r = cli([...args, '--json', '--summary-file', summary]);
    expect(r.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${bad[0]}\n${bad[1]}\n`); // 30 bytes; with the third, 60
    const report = { path: out, lines_written: 2, rejected: 5, bytes: 30, truncated: true, max_bytes: 59 };
    expect(summaryOf(r).rejects_lines).toEqual(report);
    expect((JSON.parse(readFileSync(summary, 'utf8')) as { rejects_lines: unknown }).rejects_lines).toEqual(report);

    const human = logLines(cli(args).stderr).map((l) => String(l.msg));
    expect(human).toContain(`rejected lines as they came: ${out}, cut at --rejects-lines-max-bytes 59: 2 of 5 lines written (30 bytes)`);
  });

  it('writes every line when they fill the cap exactly, and none when the first does not fit', () => {
    const feed = writeFeed('feed.ndjson', feedLines);
    const out = join(t.dir, 'rejected.ndjson');
    const run = (max: number) => summaryOf(cli(['ingest', feed.path, '--db', t.db, '--max-reject-ratio', 'none', '--json', '--rejects-lines', out, '--rejects-lines-max-bytes', String(max)]));
    expect(run(150).rejects_lines).toMatchObject({ lines_written: 5, rejected: 5, bytes: 150, truncated: false });
    expect(readFileSync(out).equals(asRejectsLines(bad))).toBe(true);
    expect(run(9).rejects_lines).toMatchObject({ lines_written: 0, rejected: 5, bytes: 0, truncated: true });
    expect(readFileSync(out)).toHaveLength(0);
  });

  it('takes a line that does not fit back out whole, even once part of it was written', () => {
    // 1.5 MB: its first MiB is read, and written, before its second read shows it does not fit.
    const long = `{"item_id":"${'y'.repeat(1_500_000)}"`;
    const feed = writeFeed('feed.ndjson', [bad[0]!, long, bad[1]!]);
    const out = join(t.dir, 'rejected.ndjson');
    const r = cli(['ingest', feed.path, '--db', t.db, '--max-reject-ratio', 'none', '--json', '--rejects-lines', out, '--rejects-lines-max-bytes', '1200000']);
    expect(summaryOf(r).rejects_lines).toMatchObject({ lines_written: 1, rejected: 3, bytes: 10, truncated: true });
    expect(readFileSync(out, 'utf8')).toBe(`${bad[0]}\n`);
  });

  it('is refused without --rejects-lines, and unless a positive integer (exit 2)', () => {
    const feed = writeFeed('feed.ndjson', feedLines).path;
    const alone = cli(['ingest', feed, '--db', t.db, '--rejects-lines-max-bytes', '100']);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toMatch(/^brand-orchestrator: ERR_USAGE: --rejects-lines-max-bytes caps --rejects-lines: give --rejects-lines too/);
    const zero = cli(['ingest', feed, '--db', t.db, '--rejects-lines', 'r.txt', '--rejects-lines-max-bytes', '0']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/Expected `--rejects-lines-max-bytes` to be a positive integer, got "0"/);
    expect(existsSync(t.db)).toBe(false);
  });
});

describe('ingest --rejects-lines: what it refuses', () => {
  it('refuses stdin and a named pipe before the run (ERR_INVALID_OPTION, exit 2): they cannot be read a second time', () => {
    const feed = mixedFeed(20, 5).lines.join('\n');
    const stdin = cli(['ingest', '-', '--db', t.db, '--rejects-lines', 'r.txt'], feed);
    expect(stdin.status).toBe(2);
    expect(stdin.stderr).toMatch(/^brand-orchestrator: ERR_INVALID_OPTION: --rejects-lines copies the rejected lines from the input after the run, .*the input is stdin/);
    const fifo = join(t.dir, 'feed.fifo');
    execFileSync('mkfifo', [fifo]);
    const pipe = cli(['ingest', fifo, '--db', t.db, '--rejects-lines', 'r.txt']);
    expect(pipe.status).toBe(2);
    expect(pipe.stderr).toMatch(/ERR_INVALID_OPTION: .*feed\.fifo is a named pipe: give the feed as a file, or use --rejects/);
    expect(existsSync(t.db)).toBe(false);
    expect(readdirSync(t.dir)).toEqual(['feed.fifo']);
  });

  it('refuses the path of --rejects, the database and the input (ERR_OUTPUT, exit 2), with nothing written', () => {
    const feed = writeFeed('feed.ndjson', mixedFeed(20, 5).lines);
    const cases: [string[], RegExp][] = [
      [['--rejects', 'r.txt', '--rejects-lines', './r.txt'], /Refusing --rejects-lines \.\/r\.txt: --rejects names the same file/],
      [['--rejects-lines', t.db], /Refusing --rejects-lines .*: it is the database/],
      [['--rejects-lines', 'feed.ndjson'], /Refusing --rejects-lines feed\.ndjson: it is the input/],
      [['--rejects-lines', join(t.dir, 'missing', 'r.txt')], /Cannot write .*r\.txt: folder .*missing does not exist/],
    ];
    for (const [flags, why] of cases) {
      const r = cli(['ingest', feed.path, '--db', t.db, ...flags]);
      expect({ flags, status: r.status }).toEqual({ flags, status: 2 });
      expect(r.stderr).toMatch(/^brand-orchestrator: ERR_OUTPUT: /);
      expect(r.stderr).toMatch(why);
    }
    expect(existsSync(t.db)).toBe(false);
    expect(readFileSync(feed.path).equals(feed.bytes)).toBe(true);
    expect(readdirSync(t.dir)).toEqual(['feed.ndjson']);
  });

  it('keeps an existing file until the new one is complete: a run that cannot start leaves it; a run replaces it, keeping its permission bits', () => {
    const out = join(t.dir, 'rejected.ndjson');
    writeFileSync(out, 'yesterday\n', { mode: 0o640 });
    const r = cli(['ingest', join(t.dir, 'missing.ndjson'), '--db', t.db, '--rejects-lines', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ERR_INPUT/);
    expect(readFileSync(out, 'utf8')).toBe('yesterday\n');
    expect(tempFiles()).toEqual([]);

    const feed = writeFeed('feed.ndjson', mixedFeed(20, 10).lines);
    expect(cli(['ingest', feed.path, '--db', t.db, '--quiet', '--rejects-lines', out]).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('{"item_id": "broken", \n{"item_id": "broken", \n');
    expect(statSync(out).mode & 0o777).toBe(0o640);
    expect(tempFiles()).toEqual([]);
  });
});

describe('writeRejectedLines()', () => {
  it('fails ERR_INPUT_CHANGED when the input no longer reaches a rejected line', async () => {
    const { lines } = mixedFeed(50, 10);
    const feed = writeFeed('feed.ndjson', lines);
    expect(cli(['ingest', feed.path, '--db', t.db, '--run-id', 'r1', '--quiet']).status).toBe(0);
    truncateSync(feed.path, feed.bytes.length / 2);
    const fd = openSync(join(t.dir, 'out'), 'w');
    try {
      await expect(writeRejectedLines(fd, { target: parseDbTarget(t.db), input: feed.path }, 'r1', 1 << 20))
        .rejects.toMatchObject({ code: 'ERR_INPUT_CHANGED', message: expect.stringMatching(/it ends before rejected line \d+.*it changed since the run/) as unknown });
    } finally {
      closeSync(fd);
    }
  });
});

describe('ingest --rejects-lines on PostgreSQL', () => {
  let pg: ScratchDb;
  beforeAll(async () => { pg = await scratchDb('bo_rejects_lines'); });
  afterAll(async () => { await pg?.drop(); });

  it('holds each rejected line byte for byte, over chunks planned by bytes, even where line numbers are unknown', async () => {
    const { all, bad } = hostileFeed();
    const feed = writeFeed('feed.ndjson', [...mixedFeed(30).lines, ...all, ...mixedFeed(30).lines.map((l) => l.replace(/item-/g, 'more-'))]);
    const out = join(t.dir, 'rejected.ndjson');
    const r = cli(['ingest', feed.path, '--db', pg.url, '--run-id', 'p1', '--chunk-bytes', '4096', '--workers', '2', '--json', '--rejects-lines', out]);
    expect(r.status).toBe(0);
    expect(summaryOf(r)).toMatchObject({ rejected: 7, rejects_lines: { lines_written: 7, rejected: 7, truncated: false } });
    expect(readFileSync(out).equals(asRejectsLines(bad))).toBe(true);

    // With the first chunk not done, the later chunks' line numbers are unknown (0); their bytes still place the lines.
    await pg.query("UPDATE run_chunks SET state = 'pending' WHERE run_id = 'p1' AND chunk_index = 0");
    const lineNos = await withReadStore(parseDbTarget(pg.url), async (store) => {
      const nos: number[] = [];
      for await (const rej of store.iterateRejects('p1')) nos.push(rej.lineNo);
      return nos;
    });
    expect(lineNos).toEqual(Array(7).fill(0));
    const again = join(t.dir, 'again.ndjson');
    const fd = openSync(again, 'w');
    try {
      await expect(writeRejectedLines(fd, { target: parseDbTarget(pg.url), input: feed.path }, 'p1', 1 << 30))
        .resolves.toEqual({ linesWritten: 7, rejected: 7, bytes: asRejectsLines(bad).length, truncated: false, maxBytes: 1 << 30 });
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(again).equals(asRejectsLines(bad))).toBe(true);
  });
});
