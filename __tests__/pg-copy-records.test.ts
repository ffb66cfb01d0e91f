/**
 * CopyRecords against the real server: records encoded in one buffer, sent
 * as a subset in another order, with a bool patched after encoding, read
 * back field for field (text with tabs, quotes and non-ASCII, NULLs,
 * doubles, int8 beyond 2^32, timestamps).
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyRecords } from '../src/pg/copy-binary';
import { ADMIN_URL } from './helpers/pg';

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query('CREATE TEMP TABLE t (s text, j json, d float8, n int8, at timestamptz, b boolean)');
});
afterAll(async () => {
  await client?.end();
});

test('records in any order (adjacent ones sent as one slice), with a patched bool, reads back as written', async () => {
  const records = new CopyRecords(64); // small: the buffer must grow while encoding
  const rows = [
    { s: 'tab\there "quoted" \\ back', j: '{"a":[1,2]}', d: 1.5, n: 2 ** 40 + 7, at: Date.UTC(2026, 11, 1, 3, 4, 5, 678), b: false },
    { s: null, j: '[]', d: null, n: -3, at: Date.UTC(1999, 0, 1), b: false },
    { s: 'Café ✓ 🎉'.repeat(50), j: '"x"', d: -0.25, n: 0, at: Date.UTC(2000, 0, 1), b: false },
  ];
  const ids = rows.map((r) => {
    const id = records.begin(6);
    records.text(r.s);
    records.text(r.j);
    records.float8(r.d);
    records.int8(r.n);
    records.timestamptz(r.at);
    records.bool(r.b);
    return id;
  });
  records.setLastBool(ids[2] as number, true);
  await pipeline(Readable.from(records.stream([ids[2] as number, ids[0] as number, ids[1] as number])), client.query(copyFrom('COPY t FROM STDIN (FORMAT binary)')));
  const { rows: back } = await client.query<{ s: string | null; j: string; d: number | null; n: string; at: Date; b: boolean }>(
    'SELECT s, j::text AS j, d, n::text AS n, at, b FROM t ORDER BY n DESC');
  expect(back).toEqual([
    { s: rows[0]?.s, j: '{"a":[1,2]}', d: 1.5, n: String(2 ** 40 + 7), at: new Date(rows[0]?.at as number), b: false },
    { s: rows[2]?.s, j: '"x"', d: -0.25, n: '0', at: new Date(rows[2]?.at as number), b: true },
    { s: null, j: '[]', d: null, n: '-3', at: new Date(rows[1]?.at as number), b: false },
  ]);
});
