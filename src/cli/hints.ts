import { basename, resolve } from 'node:path';

/**
 * A command line that runs this CLI again with `args`, quoted for a POSIX
 * shell, so a hint works as printed: `brand-orchestrator ...` when it was
 * started through its installed name, else `node /abs/path/main.js ...`.
 */
export function commandLine(args: readonly string[]): string {
  return [...selfCommand(), ...args].map(shellQuote).join(' ');
}

function selfCommand(): string[] {
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
export function resumeHint(db: string, runId: string, input: string | undefined): string {
  const line = commandLine(['ingest', input ?? '-', '--db', db, '--resume', runId]);
  return input === undefined ? `${line} < (the same feed again)` : line;
}

/** The command that lists a run's rejects (or counts them per code, with a few examples each). */
export function rejectsHint(db: string, runId: string, summary = false): string {
  return commandLine(['rejects', '--db', db, '--run', runId, ...(summary ? ['--summary'] : [])]);
}
