/** Exit codes of the `brand-orchestrator` CLI (documented in the README). */
export const EXIT = Object.freeze({
  /** The run completed (or the command succeeded). */
  OK: 0,
  /** The run failed (including `--max-rejects` exceeded), or `verify` found problems. */
  FAILED: 1,
  /** Usage or setup error: unknown flag, unreadable input, database cannot be opened or is too new. */
  USAGE: 2,
  /** Interrupted by SIGINT (128 + 2); the run is marked `cancelled`. */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM (128 + 15), as a service manager or `timeout` does; the run is marked `cancelled`. */
  TERMINATED: 143,
});

/** The exit code for a process stopped by `signal`: 128 + its number, as shells report it. */
export function signalExitCode(signal: 'SIGINT' | 'SIGTERM'): number {
  return signal === 'SIGTERM' ? EXIT.TERMINATED : EXIT.INTERRUPTED;
}

/** A CLI error that maps to an exit code and prints as one line with its stable `code`. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;
  constructor(message: string, exitCode: number = EXIT.USAGE, code = exitCode === EXIT.USAGE ? 'ERR_INVALID_OPTION' : 'ERR_FAILED') {
    super(message);
    this.exitCode = exitCode;
    this.code = code;
  }
}
