import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDbTarget, redactUrl, targetLabel } from '../src/store/target';

describe('parseDbTarget()', () => {
  it('takes a value without a scheme as a SQLite path, as it is (relative stays relative)', () => {
    expect(parseDbTarget('data/bo.sqlite')).toEqual({ kind: 'sqlite', path: 'data/bo.sqlite' });
    expect(parseDbTarget('/var/lib/bo.sqlite')).toEqual({ kind: 'sqlite', path: '/var/lib/bo.sqlite' });
    expect(parseDbTarget(':memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('takes a Windows drive letter for a path, not a one-letter scheme', () => {
    expect(parseDbTarget('C:\\data\\bo.sqlite')).toEqual({ kind: 'sqlite', path: 'C:\\data\\bo.sqlite' });
    expect(parseDbTarget('d:/data/bo.sqlite')).toEqual({ kind: 'sqlite', path: 'd:/data/bo.sqlite' });
  });

  it('reads a file: URL as the file it names, percent-escapes decoded', () => {
    const file = join('/tmp', 'a folder', 'bo.sqlite');
    expect(parseDbTarget(pathToFileURL(file).href)).toEqual({ kind: 'sqlite', path: file });
    expect(parseDbTarget('FILE:///tmp/x.sqlite')).toEqual({ kind: 'sqlite', path: '/tmp/x.sqlite' });
  });

  it('refuses a file: URL that names no local file (a host), naming the option', () => {
    expect(() => parseDbTarget('file://fileserver/share/bo.sqlite', '`--db`'))
      .toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/^Expected `--db` to be a valid file: URL/) as unknown }));
  });

  it('takes postgres: and postgresql: URLs, in any case, keeping the URL and labelling it without the password', () => {
    for (const url of ['postgres://bo:s3cret@db.internal:5433/intel', 'postgresql://bo:s3cret@db.internal:5433/intel', 'POSTGRES://bo:s3cret@db.internal:5433/intel']) {
      const t = parseDbTarget(url);
      expect(t).toEqual({ kind: 'postgres', url, label: expect.stringMatching(/^postgres(ql)?:\/\/bo:\*\*\*@db\.internal:5433\/intel$/i) as unknown });
      expect(targetLabel(t)).not.toContain('s3cret');
    }
    expect(parseDbTarget('postgresql:///intel')).toEqual({ kind: 'postgres', url: 'postgresql:///intel', label: 'postgresql:///intel' });
  });

  it.each(['mysql:///x', 'http://x', 'sqlite:///tmp/x.sqlite', 'postgres+ssl://x'])('refuses any other scheme (%s) with ERR_INVALID_OPTION, naming the scheme and the option', (value) => {
    const scheme = value.slice(0, value.indexOf(':') + 1);
    expect(() => parseDbTarget(value, 'BRAND_ORCH_DB_URL')).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_OPTION', message: `Unsupported database URL scheme "${scheme}" in BRAND_ORCH_DB_URL; expected a file path, a file: URL, or a postgres:// URL`,
    }));
  });

  it('refuses an empty value', () => {
    expect(() => parseDbTarget('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: 'Expected `db` to be a file path or a postgres:// URL, got ""' }));
  });
});

describe('redactUrl()', () => {
  it('replaces the password and keeps user, host, port, database and other parameters', () => {
    expect(redactUrl('postgres://bo:s3cret@db.internal:5433/intel?sslmode=require')).toBe('postgres://bo:***@db.internal:5433/intel?sslmode=require');
  });

  it('leaves a URL without a password as it is', () => {
    expect(redactUrl('postgres://bo@db.internal/intel')).toBe('postgres://bo@db.internal/intel');
    expect(redactUrl('postgresql:///intel?host=/var/run/postgresql')).toBe('postgresql:///intel?host=/var/run/postgresql');
  });

  it('redacts a password given as a query parameter, in any case', () => {
    const label = redactUrl('postgres://db.internal/intel?user=bo&PassWord=s3cret&sslmode=require');
    expect(label).not.toContain('s3cret');
    expect(label).toBe('postgres://db.internal/intel?user=bo&PassWord=***&sslmode=require');
  });

  it('keeps the password out of a URL it cannot parse', () => {
    for (const url of ['postgres://bo:s3cret@[not-a-host/intel', 'postgres://bo:s3cret@h:99999/intel?password=s3cret', 'postgres://bo:s3c@ret@[h/intel']) {
      const label = redactUrl(url);
      expect(label).not.toMatch(/s3c|ret/);
      expect(label).toMatch(/^postgres:\/\/\*\*\*@/);
    }
  });
});
