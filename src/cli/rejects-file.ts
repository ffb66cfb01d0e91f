import { withReadStore } from '../backend/open-read-store';
import type { DbTarget } from '../store/target';
import { writeAll } from './staged-file';

/**
 * `ingest --rejects PATH`: the run's rejects as NDJSON
 * (`{line_no, code, reason, excerpt}`), in line order, read from the
 * database `target` into `fd` (a {@link StagedFile}'s temporary file).
 */
export async function writeRejects(fd: number, target: DbTarget, runId: string): Promise<void> {
  await withReadStore(target, async (store) => {
    let batch = '';
    for await (const r of store.iterateRejects(runId)) {
      batch += `${JSON.stringify({ line_no: r.lineNo, code: r.code, reason: r.reason, excerpt: r.excerpt })}\n`;
      if (batch.length >= 1 << 16) {
        writeAll(fd, Buffer.from(batch));
        batch = '';
      }
    }
    writeAll(fd, Buffer.from(batch));
  });
}
