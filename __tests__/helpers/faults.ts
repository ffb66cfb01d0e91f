import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestWith } from '../../src/backend/run-pipeline';
import type { RunPipelineOptions, RunSummary } from '../../src/pipeline';
import { CLI, cliEnv } from './cli';

/** A fault the fixture worker (fixtures/faulty-worker.js) injects into one chunk. */
export interface Fault {
  chunkIndex: number;
  kind: 'throw' | 'throw-in-transaction' | 'exit' | 'oom' | 'disk-full' | 'park' | 'park-in-transaction';
  /** Attempts (1-based) up to this one fail. @defaultValue 1 */
  failAttempts?: number;
}

const FIXTURE = join(__dirname, '..', 'fixtures', 'faulty-worker.js');
/** Preloaded with `node --require` into the real CLI, it runs every ingest on the fixture worker. */
export const CLI_PRELOAD = join(__dirname, '..', 'fixtures', 'faulty-cli.js');

/** Writes the faults the fixture worker of a run on `dbPath` reads; returns the file's path. */
export function writeFaults(dbPath: string, faults: Fault | Fault[]): string {
  const file = `${dbPath}.faults.json`;
  writeFileSync(file, JSON.stringify(([] as Fault[]).concat(faults)));
  for (const f of ([] as Fault[]).concat(faults)) {
    for (const mark of ['parked', 'release', 'handled']) rmSync(`${dbPath}.${mark}-${f.chunkIndex}`, { force: true });
  }
  return file;
}

/**
 * `runPipeline` on a pool of fixture workers that inject `faultInjection`;
 * the faults reach the workers in a file beside the database.
 */
export async function runWithFaults(options: RunPipelineOptions & { dbPath: string; faultInjection: Fault | Fault[] }): Promise<RunSummary> {
  const { faultInjection, ...opts } = options;
  const file = writeFaults(opts.dbPath, faultInjection);
  try {
    return await ingestWith(opts, FIXTURE);
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Waits until `check` holds. It synchronises on a state the test waits for
 * (a file written, a line printed), not on the machine's speed: the bound
 * only turns a hang into a clear failure.
 */
export async function waitUntil(check: () => boolean, what: string, boundMs = 90_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The real CLI running with the fault-injecting worker; `args` must hold `--db dbPath`. */
export interface FaultyCli {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  /** Resolves once a worker has stopped at the park fault of `chunkIndex`. */
  parked: (chunkIndex: number) => Promise<void>;
  /** Lets the worker parked at `chunkIndex` go on. */
  release: (chunkIndex: number) => void;
  /** Sends `sig` and resolves once the CLI has printed its notice (`SIGINT: finishing in-flight chunks…`). */
  interrupt: (sig: 'SIGINT' | 'SIGTERM') => Promise<void>;
}

/** Whether a worker of a run on `dbPath` stopped at the park fault of `chunkIndex`. */
export function isParked(dbPath: string, chunkIndex: number): boolean {
  return existsSync(`${dbPath}.parked-${chunkIndex}`);
}

/** Lets the worker parked at `chunkIndex` of a run on `dbPath` go on. */
export function release(dbPath: string, chunkIndex: number): void {
  writeFileSync(`${dbPath}.release-${chunkIndex}`, '');
}

/** Whether the worker of a chunk of a run on `dbPath` that met a fault has handled it (committed it or given up). */
export function isHandled(dbPath: string, chunkIndex: number): boolean {
  return existsSync(`${dbPath}.handled-${chunkIndex}`);
}

export function startFaultyCli(args: string[], dbPath: string, faults: Fault | Fault[], cwd: string): FaultyCli {
  writeFaults(dbPath, faults);
  const child = spawn(process.execPath, ['--require', CLI_PRELOAD, CLI, ...args], { cwd, env: cliEnv() });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout.resume();
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => { ended = true; res({ code, signal }); }));
  return {
    child, exited, stderr: () => stderr,
    parked: async (chunkIndex) => {
      await waitUntil(() => isParked(dbPath, chunkIndex) || ended, `a worker to park at chunk ${chunkIndex}`);
      if (!isParked(dbPath, chunkIndex)) throw new Error(`the run ended before chunk ${chunkIndex} parked: ${stderr}`);
    },
    release: (chunkIndex) => release(dbPath, chunkIndex),
    interrupt: async (sig) => {
      const seen = stderr.split(`${sig}: finishing in-flight chunks`).length - 1;
      child.kill(sig);
      await waitUntil(() => stderr.split(`${sig}: finishing in-flight chunks`).length - 1 > seen, `the ${sig} notice`);
    },
  };
}
