/**
 * Child processes timed by the peer benchmarks: wall time and the CPU of the
 * whole child tree, which Linux adds to this process's `cutime`/`cstime`
 * once the child is waited for.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface Timed {
  wallMs: number;
  /** User + system CPU of the child and its descendants. */
  cpuMs: number;
  stdout: string;
}

export interface TimedOptions {
  /** Text written to the child's stdin. */
  input?: string;
  /** A file given to the child as its stdin (not read into memory). */
  stdinFile?: string;
  cwd?: string;
}

/** Numeric field `n` of a /proc stat line, numbered as in proc(5) (ppid is 4, utime 14). */
export function statField(stat: string, n: number): number {
  // Fields 3 on come after the command name, which may hold spaces and parentheses.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3]);
}

/** The sum of the clock-tick fields `fields` of a /proc stat line. */
export function statTicks(stat: string, ...fields: number[]): number {
  return fields.reduce((sum, f) => sum + statField(stat, f), 0);
}

/** USER_HZ: 100 on every Linux the project runs on. */
export const MS_PER_TICK = 10;

/** User + system CPU of this process's waited-for children so far, in ms (Linux: /proc/self/stat cutime, cstime). */
export function childCpuMs(): number {
  return statTicks(readFileSync('/proc/self/stat', 'utf8'), 16, 17) * MS_PER_TICK;
}

/** Runs `cmd` to completion; throws with its stderr when it exits non-zero. */
export function timed(cmd: string, argv: readonly string[], opts: TimedOptions = {}): Timed {
  const fd = opts.stdinFile === undefined ? undefined : openSync(opts.stdinFile, 'r');
  try {
    const cpu0 = childCpuMs();
    const t0 = performance.now();
    const r = spawnSync(cmd, argv, {
      input: opts.input, cwd: opts.cwd, encoding: 'utf8', maxBuffer: 1 << 26,
      ...(fd === undefined ? {} : { stdio: [fd, 'pipe', 'pipe'] }),
    });
    const wallMs = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
    return { wallMs, cpuMs: childCpuMs() - cpu0, stdout: r.stdout };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Runs several commands at once, each with its own argv, to completion;
 * wall time is until the last one exits, CPU is all of them together.
 * Throws with the stderr of the first one that exits non-zero.
 */
export async function timedTogether(cmd: string, argvs: readonly (readonly string[])[], opts: { cwd?: string } = {}): Promise<Timed> {
  const cpu0 = childCpuMs();
  const t0 = performance.now();
  const outs = await Promise.all(argvs.map((argv) => new Promise<{ argv: readonly string[]; code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(cmd, argv, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', fail);
    child.on('close', (code) => done({ argv, code, stdout, stderr }));
  })));
  const wallMs = performance.now() - t0;
  const bad = outs.find((o) => o.code !== 0);
  if (bad !== undefined) throw new Error(`${cmd} ${bad.argv.join(' ')} exited ${bad.code}: ${bad.stderr}`);
  return { wallMs, cpuMs: childCpuMs() - cpu0, stdout: outs.map((o) => o.stdout).join('') };
}
