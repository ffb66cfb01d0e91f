import { spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { resolve } from 'node:path';

/** The built CLI (tests run it as a user would: `npm test` builds first). */
export const CLI = resolve(__dirname, '../../dist/src/cli/main.js');

/** Runs the built CLI to completion in `cwd`; `wrap` prefixes the command (e.g. a shell that sets a limit). */
export function runCli(
  args: string[],
  o: { cwd: string; input?: string; env?: NodeJS.ProcessEnv; stdio?: SpawnSyncOptions['stdio']; wrap?: string[] },
): SpawnSyncReturns<string> {
  const [cmd, ...pre] = o.wrap ?? [];
  return spawnSync(cmd ?? process.execPath, [...pre, ...(cmd === undefined ? [] : [process.execPath]), CLI, ...args], {
    encoding: 'utf8', input: o.input, cwd: o.cwd, env: o.env ?? process.env, stdio: o.stdio, timeout: 120_000,
  });
}
