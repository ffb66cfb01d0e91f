/* global process, console */
/**
 * Packs the package and uses it as a user would (`node .ci/pack-test.mjs`):
 *  1. `npm pack` after a clean build; the tarball must hold the entry points
 *     and the worker file, every relative `require` of a shipped file must be
 *     shipped too, and nothing else (tests, benches, CI, tsconfigs, maps).
 *  2. One `npm install <tarball> @types/node@20` into a temp folder, shared by
 *     a CommonJS and an ESM TypeScript project beside it (the native
 *     better-sqlite3 build is the slow part, so it is done once).
 *  3. Each project is type-checked with the repository's TypeScript,
 *     `skipLibCheck: false`, under `moduleResolution` node16 and bundler, then
 *     its node16 build runs a tiny ingest into a temp database.
 *  4. The exports map: `brand-orchestrator/package.json` resolves, deep
 *     imports do not, from `require` and from `import`.
 * Exits 1 naming the first step that failed. `--keep` leaves the temp folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'bo-pack-'));

function run(cmd, args, cwd, what) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`${what} failed (${cmd} ${args.join(' ')} in ${cwd}):\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

function step(name) {
  console.log(`pack-test: ${name}`);
}

/** `npm pack` on a clean build; returns the tarball's path and its file list (without the `package/` prefix). */
function pack() {
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true }); // no stale output from deleted sources in the tarball
  const out = run(NPM, ['pack', '--json', '--pack-destination', work], ROOT, 'npm pack');
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  return { tarball: join(work, info.filename), files: info.files.map((f) => f.path) };
}

function checkContents(files) {
  const has = new Set(files);
  const required = ['package.json', 'README.md', 'LICENSE', 'docs/api.md', 'docs/cli.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/workers/ingest-worker.js'];
  const missing = required.filter((f) => !has.has(f));
  if (missing.length > 0) throw new Error(`the tarball lacks ${missing.join(', ')}`);
  // docs/*.md ship: the README links to them.
  const unwanted = files.filter((f) => /(^|\/)(__tests__|bench|\.ci)\/|tsconfig|\.map$|(?<!\.d)\.ts$|^docs\/(?!.*\.md$)/.test(f));
  if (unwanted.length > 0) throw new Error(`the tarball holds files a user does not need: ${unwanted.join(', ')}`);
  // Every relative require() of a shipped file (the worker's imports of dist/src included) is shipped.
  const dangling = [];
  for (const f of files.filter((p) => p.endsWith('.js'))) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    for (const [, spec] of text.matchAll(/require\("(\.{1,2}\/[^"]*)"\)/g)) {
      const target = normalize(join(dirname(f), spec)).replaceAll('\\', '/');
      if (![target, `${target}.js`, `${target}/index.js`].some((c) => has.has(c))) dangling.push(`${f} -> ${spec}`);
    }
  }
  if (dangling.length > 0) throw new Error(`shipped files require files that are not shipped: ${dangling.join('; ')}`);
}

/** Every type name the root exports, read from src/index.ts, so a public type stripped as @internal fails the type-check. */
function publicTypeNames() {
  const index = readFileSync(join(ROOT, 'src', 'index.ts'), 'utf8');
  return [...index.matchAll(/export type \{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean));
}

/** The consumer: the same TypeScript for both projects (an async main: a CommonJS build has no top-level await). */
function consumerSource() {
  return `import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, StateStore, TooManyRejectsError, VERSION, generateLines, runPipeline } from 'brand-orchestrator';
import type { ${publicTypeNames().join(', ')} } from 'brand-orchestrator';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(\`pack-test consumer: \${what}\`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bo-consumer-'));
  try {
    const feed = join(dir, 'feed.ndjson');
    writeFileSync(feed, [...generateLines({ count: 4, seed: 3 }), '{"not": "an item"'].join('\\n') + '\\n');
    const dbPath = join(dir, 'state.sqlite');
    const summary: RunSummary = await runPipeline({ input: feed, dbPath, workers: 1 });
    check(summary.status === 'completed' && summary.inserted === 4 && summary.rejected === 1, \`unexpected summary \${JSON.stringify(summary)}\`);
    const store = StateStore.open(dbPath, { readonly: true });
    try {
      check(store.countItems(summary.runId) === 4, 'the items are not in the database');
      check(store.listRejects(summary.runId).length === 1, 'the reject is not recorded');
    } finally {
      store.close();
    }
    const failed = await runPipeline({ input: feed, dbPath: join(dir, 'b.sqlite'), workers: 1, maxRejects: 0 }).catch((err: unknown) => err);
    check(failed instanceof TooManyRejectsError, 'maxRejects 0 did not fail with TooManyRejectsError');
    if (failed instanceof TooManyRejectsError) check(failed.summary.status === 'failed', 'the failure carries no summary');
    const aborted = await runPipeline({ input: feed, dbPath, signal: AbortSignal.abort() }).catch((err: unknown) => err);
    check(aborted instanceof CancelledError && aborted.name === 'AbortError', 'an aborted signal did not reject with an AbortError');
    console.log(\`brand-orchestrator \${VERSION}: \${summary.inserted} inserted, \${summary.rejected} rejected\`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type PublicTypes = [${publicTypeNames().join(', ')}];

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
`;
}

/** A project of one module system: its package.json, one tsconfig per resolution, the consumer. */
function writeProject(dir, type) {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${type}`, private: true, type }, null, 2)}\n`);
  const base = { target: 'ES2022', lib: ['ES2022', 'ESNext.Disposable'], strict: true, skipLibCheck: false, types: ['node'], rootDir: 'src' };
  const configs = {
    'tsconfig.node16.json': { ...base, module: 'node16', moduleResolution: 'node16', outDir: 'out' },
    // What a bundler-based app checks with; not run (no bundler here), only type-checked.
    'tsconfig.bundler.json': { ...base, module: 'preserve', moduleResolution: 'bundler', noEmit: true },
  };
  for (const [name, compilerOptions] of Object.entries(configs)) {
    writeFileSync(join(dir, name), `${JSON.stringify({ compilerOptions, include: ['src'] }, null, 2)}\n`);
  }
  writeFileSync(join(dir, 'src', 'main.ts'), consumerSource());
  return Object.keys(configs);
}

function checkExportsMap(cwd) {
  const probe = `const req = require('node:module').createRequire(process.cwd() + '/');
if (req('brand-orchestrator/package.json').name !== 'brand-orchestrator') throw new Error('./package.json is not exported');
let code;
try { req('brand-orchestrator/dist/src/sqlite/items.js'); } catch (err) { code = err.code; }
if (code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw new Error('a deep require was not refused: ' + code);
import('brand-orchestrator/dist/src/sqlite/items.js').then(
  () => { throw new Error('a deep import was not refused'); },
  (err) => { if (err.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw err; },
);`;
  run(process.execPath, ['-e', probe], cwd, 'the exports map check');
}

function main() {
  step('npm pack (clean build)');
  const { tarball, files } = pack();
  checkContents(files);
  console.log(`pack-test: ${files.length} files in ${tarball}`);
  step('npm install <tarball> @types/node@20 (builds better-sqlite3 when no prebuilt binary is reachable)');
  writeFileSync(join(work, 'package.json'), '{ "name": "pack-test", "private": true }\n');
  run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@types/node@20'], work, 'npm install of the tarball');
  checkExportsMap(work);
  for (const type of ['commonjs', 'module']) {
    const dir = join(work, type);
    for (const config of writeProject(dir, type)) {
      step(`${type}: tsc -p ${config} (skipLibCheck false)`);
      run(process.execPath, [TSC, '-p', config], dir, `type-checking the ${type} project with ${config}`);
    }
    step(`${type}: a tiny ingest`);
    process.stdout.write(`pack-test:   ${run(process.execPath, ['out/main.js'], dir, `the ${type} project's ingest`)}`);
  }
  console.log('pack-test: passed');
}

try {
  main();
} catch (err) {
  console.error(`pack-test: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  if (keep) console.log(`pack-test: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
