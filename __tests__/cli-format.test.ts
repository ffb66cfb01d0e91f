import { Writable } from 'node:stream';
import { displayWidth, escapeControl, fitColumns, fmtDuration, plural, table, truncate, writeTable, type Cell, type Column } from '../src/cli/format';
import { progressLine } from '../src/cli/progress';
import type { ProgressEvent } from '../src/pipeline/types';

describe('escapeControl()', () => {
  it('turns terminal escapes, NUL, newlines and bidi overrides into visible escapes', () => {
    expect(escapeControl('\u001b[2J\u001b]0;pwned\u0007')).toBe('\\x1b[2J\\x1b]0;pwned\\x07');
    expect(escapeControl('a\u0000b\nc\td\r\u007f\u009b')).toBe('a\\x00b\\nc\\td\\r\\x7f\\x9b');
    expect(escapeControl('abc\u202egnp.exe')).toBe('abc\\u202egnp.exe');
  });

  it('leaves ordinary text, Unicode and backslashes of text without control characters as they are', () => {
    for (const s of ['plain', 'ünïcödé ✓ ⚖️', 'C:\\path\\x1b', '']) expect(escapeControl(s)).toBe(s);
  });

  it('doubles backslashes in text it escapes, so an escape cannot be faked', () => {
    expect(escapeControl('\\x1b\u001b')).toBe('\\\\x1b\\x1b');
  });
});

describe('fmtDuration()', () => {
  it.each([
    [0, '0ms'], [850, '850ms'], [999.6, '1.0s'], [12_345, '12.3s'], [59_940, '59.9s'], [59_960, '1m'], [60_000, '1m'],
    [65_300, '1m 5s'], [119_600, '2m'], [3_600_000, '1h'], [3_723_000, '1h 2m'], [90_061_000, '1d 1h'], [null, '-'],
  ])('%p ms prints %p', (ms, text) => {
    expect(fmtDuration(ms)).toBe(text);
  });
});

describe('plural()', () => {
  it('agrees the noun with the count', () => {
    expect(plural(1, 'chunk')).toBe('1 chunk');
    expect(plural(0, 'chunk')).toBe('0 chunks');
    expect(plural(12_000, 'line')).toBe('12,000 lines');
  });
});

function sink(): { out: Writable; text: () => string } {
  const parts: string[] = [];
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { parts.push(chunk.toString()); cb(); } });
  return { out, text: () => parts.join('') };
}

describe('table() / writeTable()', () => {
  it('pads columns to the widest cell, prints null as -, and escapes control characters in cells', () => {
    expect(table(['id', 'title'], [['a', 'x\u001b[2Jy'], ['bbbb', null]])).toBe('id    title\na     x\\x1b[2Jy\nbbbb  -');
  });

  it('streams the same table as table() from a row source it reads twice', async () => {
    const rows: Cell[][] = [['1', 'first'], ['22', null], ['333', 'a\nb']];
    let reads = 0;
    const s = sink();
    await writeTable(s.out, ['n', 'text'], () => { reads++; return rows; });
    expect(s.text()).toBe(`${table(['n', 'text'], rows)}\n`);
    expect(reads).toBe(2);
  });

  it('streams the same table from an async row source (a server cursor), read twice', async () => {
    const rows: Cell[][] = [['1', 'first'], ['22', null], ['333', 'a\nb']];
    let reads = 0;
    async function* fromServer(): AsyncGenerator<Cell[]> { reads++; for (const r of rows) yield await Promise.resolve(r); }
    const s = sink();
    await writeTable(s.out, ['n', 'text'], fromServer);
    expect(s.text()).toBe(`${table(['n', 'text'], rows)}\n`);
    expect(reads).toBe(2);
  });

  it('handles more rows than a spread of arguments could (no call-stack limit)', async () => {
    const n = 300_000;
    function* rows(): Generator<Cell[]> { for (let i = 0; i < n; i++) yield [i, i % 7 === 0 ? 'seven' : 'x']; }
    const s = sink();
    await writeTable(s.out, ['i', 'v'], rows);
    const lines = s.text().split('\n');
    expect(lines).toHaveLength(n + 2);
    expect(lines[1]).toBe('0       seven');
  });
});

describe('tables on a narrow terminal', () => {
  const cols: Column[] = [
    { header: 'id', shrinkTo: 6 }, { header: 'kind', dropOrder: 1 }, { header: 'n' }, { header: 'note', dropOrder: 2 }, { header: 'title', shrinkTo: 8 },
  ];
  const rows: Cell[][] = [
    ['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', 'article', 1, 'a longer note', 'A title that goes on and on and on'],
    ['short', 'video', 22, null, '日本語のタイトルはとても長いです'],
  ];
  const widest = (text: string) => Math.max(...text.split('\n').map((l) => displayWidth(l)));

  it('shows a table that fits whole, and every value in a pipe (no width)', () => {
    const whole = table(cols, rows, undefined);
    expect(whole).toContain(rows[0]?.[0]);
    expect(whole).toContain('日本語のタイトルはとても長いです');
    expect(table(cols, rows, 500)).toBe(whole);
  });

  it.each([80, 60, 40, 30])('fits %p columns: ids and titles cut with …, then columns dropped by their order', (width) => {
    const text = table(cols, rows, width);
    expect(widest(text)).toBeLessThanOrEqual(width);
    expect(text).toMatch(/^id/);
    expect(text).toMatch(/0f1e2\S*…/); // a prefix of the id, still usable
    expect(text.split('\n')[0]).toMatch(/\bn\b/); // a column without dropOrder stays
  });

  it('drops the lowest dropOrder first and gives room back to the cut columns, the last column first', () => {
    const natural = [36, 7, 2, 13, 34];
    expect(fitColumns(cols, natural, 200)).toEqual({ shown: [0, 1, 2, 3, 4], widths: natural });
    // Cut to 6 + 7 + 2 + 13 + 8 and four gaps: 44 columns.
    expect(fitColumns(cols, natural, 50)).toEqual({ shown: [0, 1, 2, 3, 4], widths: [6, 7, 2, 13, 14] });
    expect(fitColumns(cols, natural, 40)).toEqual({ shown: [0, 2, 3, 4], widths: [6, 7, 2, 13, 13] }); // kind went first
    expect(fitColumns(cols, natural, 30)).toEqual({ shown: [0, 2, 4], widths: [6, 7, 2, 13, 18] });
  });

  it('counts wide characters as two columns and never splits a character', () => {
    expect(displayWidth('日本語')).toBe(6);
    expect(truncate('日本語のタイトル', 7)).toBe('日本語…');
    expect(truncate('ab👍🏽cd', 4)).toBe('ab…');
    expect(truncate('ab👍🏽cd', 5)).toBe('ab👍🏽…');
    expect(truncate('short', 5)).toBe('short');
  });
});

describe('progressLine()', () => {
  const event = (over: Partial<ProgressEvent> = {}): ProgressEvent => ({
    linesRead: 1_234_567, blankLines: 0, inserted: 1_200_000, updated: 0, unchanged: 0, rejected: 34_567, chunksDone: 490,
    bytesDone: 450_000_000, totalBytes: 1_000_000_000, elapsedMs: 90_000, itemsPerSecond: 13_717, ...over,
  });

  it('fits 80 columns with the counts first, then percentage and ETA; the bar in the room left on a wider one', () => {
    expect(progressLine(event(), 80)).toBe('1,234,567 lines · 13,717 items/s · 34,567 rejected · 45% · ETA 1m 50s');
    const line = progressLine(event(), 100);
    expect(line).toMatch(/^1,234,567 lines · 13,717 items\/s · 34,567 rejected · 45% · ETA 1m 50s \[(█+)(░+)\]$/);
    expect(line.length).toBe(99);
  });

  it('leaves parts off from the end on a narrow terminal, the bar first', () => {
    expect(progressLine(event(), 60)).toBe('1,234,567 lines · 13,717 items/s · 34,567 rejected · 45%');
    expect(progressLine(event(), 30)).toBe('1,234,567 lines');
    const wide = progressLine(event(), 200);
    expect(wide.length).toBe(199);
  });

  it('shows the elapsed time instead of a percentage when the size is unknown', () => {
    expect(progressLine(event({ totalBytes: undefined }), 120)).toBe('1,234,567 lines · 13,717 items/s · 34,567 rejected · 1m 30s');
  });
});
