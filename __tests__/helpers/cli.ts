import { spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { resolve } from 'node:path';

/** The built CLI: tests run the real binary (`npm test` builds first). */
export const CLI = resolve(__dirname, '../../dist/src/cli/main.js');

export interface CliRun {
  cwd: string;
  /** Added to the environment (after removing BRAND_ORCH_* variables the test runner may carry). */
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  stdio?: SpawnSyncOptions['stdio'];
  /** A command that runs the CLI (e.g. a shell that sets a limit first). */
  wrap?: string[];
}

/** Runs `brand-orchestrator args...` to its end; stderr is not a terminal. */
export function runCli(args: string[], o: CliRun): SpawnSyncReturns<string> {
  const [cmd, ...pre] = o.wrap ?? [];
  return spawnSync(cmd ?? process.execPath, [...pre, ...(cmd === undefined ? [] : [process.execPath]), CLI, ...args], {
    encoding: 'utf8', input: o.input, cwd: o.cwd, env: cliEnv(o.env), stdio: o.stdio, timeout: 120_000, maxBuffer: 1 << 28,
  });
}

export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
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

/**
 * The CLI's JSON (snake_case keys, see src/cli/json-out.ts) read back with the
 * library's camelCase keys, to compare it with a `RunSummary`.
 */
export function fromCliJson<T>(text: string): T {
  const camel = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(camel);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z\d])/g, (_, c: string) => c.toUpperCase()), camel(x)]));
  };
  return camel(JSON.parse(text)) as T;
}
