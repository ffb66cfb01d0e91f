import { basename, resolve } from 'node:path';

/**
 * A command line that runs this CLI again with `args`, quoted for a POSIX
 * shell, so a hint works as printed: `brand-orchestrator ...` when it was
 * started through its installed name, else `node /abs/path/main.js ...`.
 * `self`: the words that start the CLI (the library's run report says `brand-orchestrator`).
 */
export function commandLine(args: readonly string[], self: readonly string[] = selfCommand()): string {
  return [...self, ...args].map(shellQuote).join(' ');
}

/** The words that start this CLI as it was started (see {@link commandLine}). */
export function selfCommand(): string[] {
  const script = process.argv[1];
  if (script === undefined) return ['brand-orchestrator'];
  return basename(script) === 'brand-orchestrator' ? ['brand-orchestrator'] : ['node', resolve(script)];
}

/** `s` as one shell word: as it is when that is safe, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * The command that resumes run `runId` (the input read from stdin cannot be named: it must be fed again).
 * `db`: the database's label (a SQLite path, or a postgres URL without its password: `targetLabel`).
 */
export function resumeHint(db: string, runId: string, input: string | undefined, extra: readonly string[] = [], self?: readonly string[]): string {
  const line = commandLine(['ingest', input ?? '-', '--db', db, '--resume', runId, ...extra], self);
  return input === undefined ? `${line} < (the same feed again)` : line;
}

/**
 * What to do about a run that did not complete, as one line: a command that
 * changes the outcome, never one that fails the same way again. A run over
 * the reject ratio resumes only when the rejects are accepted; a run whose
 * input changed resumes only on the feed it started on, so the changed file
 * is offered for a new run instead.
 */
export function nextStepHint(
  r: { dbPath: string; runId: string; input: string | null; error?: { code: string; message: string } }, self?: readonly string[],
): string {
  const input = r.input ?? undefined;
  if (r.error?.code === 'ERR_INPUT_CHANGED') {
    return `the input differs from what run ${r.runId} committed: resume it only on the feed it started on, or start a new run on this one: `
      + `${commandLine(['ingest', input ?? '-', '--db', r.dbPath], self)}`;
  }
  if (r.error?.code === 'ERR_TOO_MANY_REJECTS' && /maxRejectRatio/.test(r.error.message)) {
    return `resume with: ${resumeHint(r.dbPath, r.runId, input, ['--max-reject-ratio', 'none'], self)} (keeps the valid lines, accepts the rejects); `
      + 'or fix the feed and start a new run';
  }
  return `resume with: ${resumeHint(r.dbPath, r.runId, input, [], self)}`;
}

/** The command that lists a run's rejects (or counts them per code, with a few examples each). */
export function rejectsHint(db: string, runId: string, summary = false): string {
  return commandLine(['rejects', '--db', db, '--run', runId, ...(summary ? ['--summary'] : [])]);
}
