import { resolve } from 'node:path';
import { toError } from '../errors';
import type { DbTarget } from '../store/target';
import { CliError, EXIT } from './exit-codes';
import type { ProtectedFiles } from './output-guard';
import { writeRejects } from './rejects-file';
import { DEFAULT_REJECTS_LINES_MAX_BYTES, writeRejectedLines, type RejectsLinesReport } from './rejects-lines';
import { StagedFile } from './staged-file';

export interface RejectFilesOpts { rejects?: string; rejectsLines?: string; rejectsLinesMaxBytes?: number }

/**
 * The run's reject files: `--rejects` (why each line was rejected) and
 * `--rejects-lines` (the lines as they came). Both are opened before the run
 * (a bad path is found out now, not after an hour of ingesting) and written
 * after it, a failed or cancelled run included; one that cannot be written
 * then leaves the run's outcome as it is and fails the command (exit 1).
 */
export class RejectFiles {
  readonly #opts: RejectFilesOpts;
  readonly #reasons: StagedFile | undefined;
  readonly #lines: StagedFile | undefined;
  readonly #failures: string[] = [];

  private constructor(opts: RejectFilesOpts, reasons: StagedFile | undefined, lines: StagedFile | undefined) {
    this.#opts = opts;
    this.#reasons = reasons;
    this.#lines = lines;
  }

  static open(opts: RejectFilesOpts, guard: ProtectedFiles): RejectFiles {
    const reasons = opts.rejects === undefined ? undefined : StagedFile.open('--rejects', opts.rejects, guard);
    try {
      return new RejectFiles(opts, reasons, opts.rejectsLines === undefined ? undefined : StagedFile.open('--rejects-lines', opts.rejectsLines, guard));
    } catch (err) {
      reasons?.discard();
      throw err;
    }
  }

  /** The run never started: nothing is written, existing files keep their content. */
  discard(): void {
    this.#reasons?.discard();
    this.#lines?.discard();
  }

  /** Copies the run's rejected lines from `input`; what was written goes into the summary (undefined: not asked for, or failed). */
  async writeLines(where: { target: DbTarget; input: string | null }, runId: string): Promise<RejectsLinesReport | undefined> {
    const { rejectsLines: path, rejectsLinesMaxBytes: maxBytes = DEFAULT_REJECTS_LINES_MAX_BYTES } = this.#opts;
    if (this.#lines === undefined || path === undefined) return undefined;
    const input = where.input ?? '-'; // never stdin: refused before the run
    try {
      const wrote = await this.#lines.commit((fd) => writeRejectedLines(fd, { target: where.target, input }, runId, maxBytes));
      return { path: resolve(path), ...wrote };
    } catch (err) {
      this.#failures.push(`The run's rejected lines could not be written to ${path}: ${toError(err).message}`);
      return undefined;
    }
  }

  /** Writes the run's rejects as NDJSON; then fails the command if either file could not be written. */
  async writeReasons(target: DbTarget, runId: string): Promise<void> {
    if (this.#reasons !== undefined) {
      try {
        await this.#reasons.commit((fd) => writeRejects(fd, target, runId));
      } catch (err) {
        this.#failures.push(`The run's rejects could not be written to ${String(this.#opts.rejects)}: ${toError(err).message}`);
      }
    }
    if (this.#failures.length > 0) throw new CliError(this.#failures.join('; '), EXIT.FAILED);
  }
}
