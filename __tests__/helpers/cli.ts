import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { resolve } from 'node:path';

/** The built CLI: tests run the real binary (build first). */
export const CLI = resolve(__dirname, '../../dist/src/cli/main.js');

export interface CliRun {
  cwd: string;
  /** Added to the environment (after removing BRAND_ORCH_* variables the test runner may carry). */
  env?: Record<string, string>;
  input?: string | Buffer;
}

/** Runs `brand-orchestrator args...` to its end; stderr is not a terminal. */
export function runCli(args: string[], o: CliRun): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8', input: o.input, cwd: o.cwd, env: cliEnv(o.env), timeout: 60_000, maxBuffer: 1 << 28,
  });
}

export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BRAND_ORCH_')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a command line exactly as the CLI printed it, through a POSIX shell, from `cwd`. */
export function runPrinted(commandLine: string, cwd: string, input?: string | Buffer): SpawnSyncReturns<string> {
  return spawnSync('/bin/sh', ['-c', commandLine], { encoding: 'utf8', cwd, input, env: cliEnv(), timeout: 60_000 });
}

/** The JSON lines of a non-terminal stderr, parsed. */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
}
