import { loadConfig } from '../src/config';
import { lineHash, lineHashSeed, quickItemId } from '../src/domain';

describe('quickItemId()', () => {
  const id = (line: string) => quickItemId(Buffer.from(line));

  it('finds the id of ordinary lines, whitespace around the colon included', () => {
    expect(id('{"item_id":"a-1","title":"x"}')).toBe('a-1');
    expect(id('{ "title": "x", "item_id" :\t "ünï ✓ 😀" }')).toBe('ünï ✓ 😀');
    expect(id('\ufeff{"item_id":"bom"}\r')).toBe('bom');
    // A plain Uint8Array view into a larger buffer, as a chunk's lines are.
    const chunk = new TextEncoder().encode('xx{"item_id":"in-view"}yy');
    expect(quickItemId(chunk.subarray(2, chunk.length - 2))).toBe('in-view');
  });

  it('gives up (undefined) rather than guess from anything unusual', () => {
    expect(id('{"title":"x"}')).toBeUndefined();
    expect(id('{"item_id":42}')).toBeUndefined();
    expect(id('{"item_id":"a\\"b"}')).toBeUndefined(); // escapes
    expect(id('{"item_id":"a\\u0041"}')).toBeUndefined();
    expect(id('{"title":"item_id","item_id":"z"}')).toBeUndefined(); // the key as a value comes first
    expect(id('{"item_id":"unterminated')).toBeUndefined();
    expect(id('{"item_id"')).toBeUndefined();
    expect(id('{"item_id":')).toBeUndefined();
  });

  it('reads an id right, however far a backslash after it is', () => {
    expect(id('{"item_id":"ok","summary":"a \\"quote\\""}')).toBe('ok');
  });
});

describe('lineHash() and its seed', () => {
  const config = loadConfig({});

  it('differs for different bytes, a BOM or a trailing CR included', () => {
    const seed = lineHashSeed(config, 1024);
    const h = (line: string) => lineHash(seed, Buffer.from(line));
    const line = '{"item_id":"a"}';
    expect(h(line)).toMatch(/^[0-9a-f]{56}$/);
    expect(h(line).startsWith(seed)).toBe(true);
    expect(h(line)).toBe(h(line));
    expect(new Set([h(line), h(`\ufeff${line}`), h(`${line}\r`), h('{"item_id": "a"}')]).size).toBe(4);
  });

  it('changes with anything else the row depends on: the config and the line limit', () => {
    const seed = lineHashSeed(config, 1024);
    expect(lineHashSeed(loadConfig({}), 1024)).toBe(seed);
    expect(lineHashSeed(config, 2048)).not.toBe(seed);
    expect(lineHashSeed(loadConfig({}, { thresholds: { ...config.thresholds, mustCover: 80 } }), 1024)).not.toBe(seed);
    expect(lineHashSeed(loadConfig({}, { brand: { ...config.brand, pillars: [...config.brand.pillars, 'new pillar'] } }), 1024)).not.toBe(seed);
  });

  it('does not change with settings that do not shape rows: database path, artifacts folder, log level', () => {
    const seed = lineHashSeed(config, 1024);
    expect(lineHashSeed(loadConfig({ BRAND_ORCH_DB_PATH: '/elsewhere/db.sqlite', BRAND_ORCH_LOG_LEVEL: 'DEBUG' }, { artifactsDir: '/tmp/a' }), 1024)).toBe(seed);
  });
});

describe('quickItemId() on an over-long id', () => {
  it('gives up on an id longer than any valid one (800 bytes) instead of copying it', () => {
    expect(quickItemId(Buffer.from(`{"item_id":"${'x'.repeat(800)}"}`))).toBe('x'.repeat(800));
    expect(quickItemId(Buffer.from(`{"item_id":"${'x'.repeat(801)}"}`))).toBeUndefined();
  });
});
