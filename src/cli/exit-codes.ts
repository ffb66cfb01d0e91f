/** Exit codes of the `brand-orchestrator` CLI (documented in the README). */
export const EXIT = Object.freeze({
  /** The run completed (or the command succeeded). */
  OK: 0,
  /** The run failed (including `--max-rejects` exceeded), or `verify` found problems. */
  FAILED: 1,
  /** Usage or setup error: unknown flag, unreadable input, database cannot be opened or is too new. */
  USAGE: 2,
  /** Interrupted by SIGINT/SIGTERM; the run is marked `cancelled`. */
  INTERRUPTED: 130,
});

/** A CLI error that maps to an exit code and prints as one line. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.USAGE) {
    super(message);
    this.exitCode = exitCode;
  }
}
