import { Writable } from 'node:stream';
import { escapeControl, fmtDuration, plural, table, writeTable, type Cell } from '../src/cli/format';

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
