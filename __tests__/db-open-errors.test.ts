/**
 * A database that cannot be opened says why in the words a user acts on,
 * not SQLite's `unable to open database file (SQLITE_CANTOPEN)`; a reading
 * command never creates a missing file. The permission cases run the CLI as
 * user `nobody`, since root may write anywhere.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cliEnv, runCli } from './helpers/cli';
import { mixedFeed } from './helpers/lines';
import { tempDir } from './helpers/tmp';

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir('bo-open-');
  chmodSync(t.dir, 0o755);
});
afterEach(() => t.cleanup());

const cli = (args: string[]) => runCli(args, { cwd: t.dir });
const NOBODY = 65534;
/** As root, and where user nobody can read the built CLI (a checkout under a private home folder cannot be). */
const asNobody = process.getuid?.() === 0
  && spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(CLI)}, require('fs').constants.R_OK)`], { uid: NOBODY, gid: NOBODY }).status === 0
  ? it : it.skip;

function asUserNobody(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: t.dir, env: cliEnv({ HOME: t.dir }), uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 60_000 });
}

function feed(): string {
  const p = join(t.dir, 'feed.ndjson');
  writeFileSync(p, `${mixedFeed(20).lines.join('\n')}\n`);
  chmodSync(p, 0o644);
  return p;
}

describe('opening a SQLite database', () => {
  it('--db naming a folder: "it is a folder", for reading and for ingesting', () => {
    for (const args of [['runs', '--db', t.dir], ['ingest', feed(), '--db', t.dir]]) {
      const r = cli(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`brand-orchestrator: ERR_DB: Cannot open database ${t.dir}: it is a folder, not a database file\n`);
    }
  });

  it('a missing file for a reading command: "no such file", and it is not created', () => {
    const missing = join(t.dir, 'missing.sqlite');
    for (const cmd of [['runs'], ['items', '--run', 'latest'], ['rejects', '--run', 'latest'], ['verify']]) {
      const r = cli([...cmd, '--db', missing]);
      expect(r.stderr).toBe(`brand-orchestrator: ERR_DB: Cannot open database ${missing}: no such file (a reading command never creates one)\n`);
      expect(r.status).toBe(2);
    }
    expect(existsSync(missing)).toBe(false);
  });

  asNobody('a folder the user may not write: "permission denied: cannot create a file in …"', () => {
    const ro = join(t.dir, 'ro');
    mkdirSync(ro, { mode: 0o755 }); // owned by root: nobody may not create files in it
    const r = asUserNobody(['ingest', feed(), '--db', join(ro, 'x.sqlite'), '--quiet']);
    expect(r.stderr).toBe(`brand-orchestrator: ERR_DB: Cannot open database ${join(ro, 'x.sqlite')}: permission denied: cannot create a file in ${ro}\n`);
    expect(r.status).toBe(2);
  });

  asNobody('a database the user may read but not write: "read-only"', () => {
    const db = join(t.dir, 'ro.sqlite');
    expect(cli(['ingest', feed(), '--db', db, '--quiet']).status).toBe(0);
    chmodSync(db, 0o644); // owned by root
    const r = asUserNobody(['ingest', feed(), '--db', db, '--quiet']);
    expect(r.stderr).toBe(`brand-orchestrator: ERR_DB: Cannot open database ${db}: read-only: the file cannot be written\n`);
    expect(r.status).toBe(2);
  });
});
