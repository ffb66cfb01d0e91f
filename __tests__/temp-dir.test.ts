import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sqliteTempDir, tempDirProblem } from '../src/sqlite/temp-dir';
import { runCli } from './helpers/cli';
import { itemLine } from './helpers/lines';
import { inMountNamespace, mountNamespaces } from './helpers/namespaces';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => { t = tempDir('bo-tmpdir-'); });
afterEach(() => t.cleanup());

describe('sqliteTempDir()', () => {
  it('picks SQLITE_TMPDIR, then TMPDIR, passing over a missing folder or a file, as SQLite does', () => {
    const file = join(t.dir, 'a-file');
    writeFileSync(file, '');
    expect(sqliteTempDir({ SQLITE_TMPDIR: t.dir, TMPDIR: '/nonexistent' })).toEqual({ path: t.dir, source: 'SQLITE_TMPDIR' });
    expect(sqliteTempDir({ SQLITE_TMPDIR: join(t.dir, 'missing'), TMPDIR: t.dir })).toEqual({ path: t.dir, source: 'TMPDIR' });
    expect(sqliteTempDir({ SQLITE_TMPDIR: file, TMPDIR: t.dir })).toEqual({ path: t.dir, source: 'TMPDIR' });
    expect(sqliteTempDir({ TMPDIR: file })?.source).not.toBe('TMPDIR'); // a fallback folder (/var/tmp, ...)
  });

  it('finds no problem with a writable temp folder that has room', () => {
    expect(tempDirProblem({ SQLITE_TMPDIR: t.dir })).toBeUndefined();
  });
});

(mountNamespaces ? describe : describe.skip)('a temp folder SQLite cannot use (in a mount namespace)', () => {
  /** The test folder, also at /mnt (outside /tmp, which some tests cover with a read-only mount). */
  const setup = (more: string) => `mount --rbind ${t.dir} /mnt\n${more}`;

  /**
   * 3,000 lines of ~25 KB in one chunk: ~75 MB staged, enough for SQLite to
   * write temporary files (~30 MB was not, ~60 MB was).
   */
  function feed(count = 3000): void {
    const lines = Array.from({ length: count }, (_, i) => itemLine(`item-${i}`, { summary: 's'.repeat(25_000) }));
    writeFileSync(join(t.dir, 'feed.ndjson'), `${lines.join('\n')}\n`);
  }
  const ingest = (env: NodeJS.ProcessEnv, more: string, extra: string[] = []) => runCli(
    ['ingest', '/mnt/feed.ndjson', '--db', '/mnt/state.sqlite', '--workers', '1', '--chunk-size', '3000', '--quiet', ...extra],
    { cwd: t.dir, env, wrap: inMountNamespace(setup(more)) },
  );
  const envWith = (vars: Record<string, string>) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...vars };
    if (!('SQLITE_TMPDIR' in vars)) delete env.SQLITE_TMPDIR;
    return env;
  };

  // It mounts read-only folders over /tmp and /var/tmp: a checkout below them would vanish from view.
  const checkoutOutsideTempFolders = !/^\/(tmp|var\/tmp|usr\/tmp)\//.test(__dirname);
  (checkoutOutsideTempFolders ? it : it.skip)('none usable: the database is not blamed, every folder SQLite tries is named, exit 2', () => {
    feed(10);
    const r = ingest(envWith({ TMPDIR: '/mnt/missing' }), [
      'for d in /tmp /var/tmp /usr/tmp; do if [ -d $d ]; then mount -t tmpfs -o ro tmpfs $d; fi; done',
      'mkdir /mnt/cwd && mount -t tmpfs -o ro tmpfs /mnt/cwd && cd /mnt/cwd',
    ].join('\n'));
    expect(r.stderr).toBe('brand-orchestrator: ERR_TEMP_DIR: No folder for SQLite\'s temporary files: SQLITE_TMPDIR is not set, '
      + 'TMPDIR=/mnt/missing does not exist, /var/tmp is on a read-only file system, /usr/tmp '
      + `${existsSync('/usr/tmp') ? 'is on a read-only file system' : 'does not exist'}, `
      + '/tmp is on a read-only file system, . (/mnt/cwd) is on a read-only file system; set SQLITE_TMPDIR to a writable folder with room\n');
    expect(r.status).toBe(2);
  });

  it('full when the store opens: named before the run starts, exit 2', () => {
    feed(10);
    const r = ingest(envWith({ TMPDIR: '/mnt/small' }), [
      'mkdir /mnt/small && mount -t tmpfs -o size=64k tmpfs /mnt/small',
      'dd if=/dev/zero of=/mnt/small/fill bs=4096 2>/dev/null || true',
    ].join('\n'));
    expect(r.stderr).toBe('brand-orchestrator: ERR_TEMP_DIR: SQLite\'s temp folder /mnt/small (TMPDIR) is full; set SQLITE_TMPDIR to a writable folder with room\n');
    expect(r.status).toBe(2);
  });
});
