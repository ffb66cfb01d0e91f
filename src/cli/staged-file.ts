import { chmodSync, closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { OutputError } from '../errors';
import { outputError } from './fs-errors';
import { refuseProtected, statOf, type ProtectedFiles } from './output-guard';
import { onStop } from './signals';

/**
 * An output written after the run (`--rejects`, `--rejects-lines`) so that a
 * wrong path cannot destroy data. The path goes through the output guard
 * (`refuseProtected`) before the run starts and again before the rename.
 * The content goes to a temporary file in the same folder, created at
 * once, renamed over the path only once complete: until then an existing
 * file keeps its content, and a run that never starts leaves no trace.
 *
 * @example
 * const out = StagedFile.open('--rejects', 'rejects.ndjson', { dbPath, input: 'feed.ndjson' });
 * // ... run ...
 * await out.commit(async (fd) => writeAll(fd, Buffer.from('...')));
 */
export class StagedFile {
  readonly #flag: string;
  readonly #path: string;
  readonly #final: string;
  readonly #temp: string;
  readonly #guard: ProtectedFiles;
  #fd: number | undefined;
  readonly #forget: () => void;

  private constructor(flag: string, path: string, final: string, temp: string, fd: number, guard: ProtectedFiles) {
    this.#flag = flag;
    this.#path = path;
    this.#final = final;
    this.#temp = temp;
    this.#fd = fd;
    this.#guard = guard;
    // At exit, and when a second Ctrl-C ends the process at once, the temporary file goes with it.
    this.#forget = onStop(() => this.discard());
  }

  /** Checks `path` and creates the temporary file next to it; throws `ERR_OUTPUT`. */
  static open(flag: string, path: string, guard: ProtectedFiles): StagedFile {
    const final = refuseProtected(flag, path, guard);
    const temp = join(dirname(final), `.${basename(final)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    let fd: number;
    try {
      fd = openSync(temp, 'wx');
    } catch (err) {
      throw outputError(path, err);
    }
    return new StagedFile(flag, path, final, temp, fd, guard);
  }

  /** Lets `write` fill the temporary file, flushes it, then renames it over the path; throws `ERR_OUTPUT`. */
  async commit<T>(write: (fd: number) => Promise<T>): Promise<T> {
    const fd = this.#fd;
    if (fd === undefined) throw new OutputError(`The file ${this.#path} (${this.#flag}) was already written or discarded`);
    try {
      const result = await write(fd);
      fsyncSync(fd); // the data is on disk before the rename makes it the file
      closeSync(fd);
      this.#fd = undefined;
      refuseProtected(this.#flag, this.#path, this.#guard); // the database exists now: checked again by inode
      const mode = statOf(this.#final)?.mode;
      if (mode !== undefined) chmodSync(this.#temp, mode & 0o7777); // an existing file's permission bits are kept
      renameSync(this.#temp, this.#final);
      this.#forget();
      return result;
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

/** Writes all of `bytes` (a write may take fewer). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
}
