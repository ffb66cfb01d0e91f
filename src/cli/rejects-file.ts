import { chmodSync, closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { OutputError } from '../errors';
import { withReadStore } from '../store/open-read-store';
import type { DbTarget } from '../store/target';
import { outputError } from './fs-errors';
import { refuseProtected, statOf, type ProtectedFiles } from './output-guard';
import { onStop } from './signals';

/**
 * `ingest --rejects PATH`: the run's rejects as NDJSON, written so that a
 * wrong path cannot destroy data. The path goes through the output guard
 * (`refuseProtected`) before the run starts and again before the rename.
 * The rejects go to a temporary file in the same folder, renamed over PATH
 * only once complete: until then an existing PATH keeps its content, and a
 * run that never starts leaves no trace.
 *
 * @example
 * const out = RejectsFile.open('rejects.ndjson', { dbPath, input: 'feed.ndjson' });
 * // ... run ...
 * await out.commit({ kind: 'sqlite', path: dbPath }, runId);
 */
export class RejectsFile {
  readonly #path: string;
  readonly #final: string;
  readonly #temp: string;
  readonly #guard: ProtectedFiles;
  #fd: number | undefined;
  readonly #forget: () => void;

  private constructor(path: string, final: string, temp: string, fd: number, guard: ProtectedFiles) {
    this.#path = path;
    this.#final = final;
    this.#temp = temp;
    this.#fd = fd;
    this.#guard = guard;
    // At exit, and when a second Ctrl-C ends the process at once, the temporary file goes with it.
    this.#forget = onStop(() => this.discard());
  }

  /** Checks `path` and creates the temporary file next to it; throws `ERR_OUTPUT`. */
  static open(path: string, guard: ProtectedFiles): RejectsFile {
    const final = refuseProtected('--rejects', path, guard);
    const temp = join(dirname(final), `.${basename(final)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    let fd: number;
    try {
      fd = openSync(temp, 'wx');
    } catch (err) {
      throw outputError(path, err);
    }
    return new RejectsFile(path, final, temp, fd, guard);
  }

  /** Writes the run's rejects from the database `target` to the temporary file, then renames it over the path. */
  async commit(target: DbTarget, runId: string): Promise<void> {
    const fd = this.#fd;
    if (fd === undefined) throw new OutputError(`The rejects file ${this.#path} was already written or discarded`);
    try {
      await writeRejects(fd, target, runId);
      fsyncSync(fd); // the data is on disk before the rename makes it the file
      closeSync(fd);
      this.#fd = undefined;
      refuseProtected('--rejects', this.#path, this.#guard); // the database exists now: checked again by inode
      const mode = modeOf(this.#final);
      if (mode !== undefined) chmodSync(this.#temp, mode);
      renameSync(this.#temp, this.#final);
      this.#forget();
    } catch (err) {
      this.discard();
      throw err instanceof OutputError ? err : outputError(this.#path, err);
    }
  }

  /** Removes the temporary file; the path keeps what it held. */
  discard(): void {
    this.#forget();
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    try {
      unlinkSync(this.#temp);
    } catch {
      // already renamed or removed
    }
  }
}

async function writeRejects(fd: number, target: DbTarget, runId: string): Promise<void> {
  await withReadStore(target, async (store) => {
    let batch = '';
    for await (const r of store.iterateRejects(runId)) {
      batch += `${JSON.stringify({ line_no: r.lineNo, code: r.code, reason: r.reason, excerpt: r.excerpt })}\n`;
      if (batch.length >= 1 << 16) {
        writeAll(fd, batch);
        batch = '';
      }
    }
    writeAll(fd, batch);
  });
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
}

/** Permission bits of an existing file, kept by the file that replaces it. */
function modeOf(path: string): number | undefined {
  const mode = statOf(path)?.mode;
  return mode === undefined ? undefined : mode & 0o7777;
}
