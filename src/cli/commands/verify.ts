import type { Command } from 'commander';
import { BrandOrchestratorError } from '../../errors';
import { DEFAULT_MAX_REJECT_RATIO, rejectRatio } from '../../pipeline/reject-ratio';
import { openReadStore } from '../../backend/open-read-store';
import type { ReadStore } from '../../store/read-store';
import type { DbTarget } from '../../store/target';
import type { RunRecord } from '../../store/types';
import { EXIT } from '../exit-codes';
import { escapeControl, fmtInt, plural } from '../format';
import { rejectsHint, resumeHint } from '../hints';
import { resolveTarget, writeJson, type GlobalOpts } from '../shared';

interface Findings { problems: string[]; warnings: string[] }

export function registerVerify(program: Command): void {
  program.command('verify')
    .description("Check integrity, foreign keys, that every run's counts reconcile, and that the latest run went well; exit 1 if anything is off")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { problems, warnings } = await verifyDatabase(resolveTarget(cmd.optsWithGlobals<GlobalOpts>()));
      const ok = problems.length === 0 && warnings.length === 0;
      if (opts.json) writeJson({ ok, problems, warnings });
      else {
        const lines = [...problems.map((p) => `problem: ${p}`), ...warnings.map((w) => `warning: ${w}`)];
        process.stdout.write(ok ? 'ok: integrity, foreign keys, run counts and the latest run all check out\n' : `${lines.map(escapeControl).join('\n')}\n`);
      }
      process.exitCode = ok ? EXIT.OK : EXIT.FAILED;
    });
}

/**
 * Opens the database and checks it. A damaged file is a finding, not a crash:
 * SQLite errors met on the way (`database disk image is malformed`) become
 * problems. A database that cannot be opened at all (missing, too new) throws.
 */
async function verifyDatabase(target: DbTarget): Promise<Findings> {
  let store: ReadStore;
  try {
    store = await openReadStore(target);
  } catch (err) {
    if (isDamage(err)) return { problems: [(err as Error).message], warnings: [] };
    throw err;
  }
  try {
    return await verifyStore(store);
  } finally {
    await store.close();
  }
}

/** SQLite damage, as opposed to a missing file or a too new schema: a malformed page, or a first page that is no longer a database header. */
function isDamage(err: unknown): boolean {
  if (!(err instanceof BrandOrchestratorError)) return false;
  const cause = (err.cause as { code?: unknown } | undefined)?.code;
  return err.code === 'ERR_DB_CORRUPT' || cause === 'SQLITE_NOTADB';
}

/** Every problem found (damage, counts that do not reconcile) and warning (the latest run went badly); empty when healthy. */
export async function verifyStore(store: ReadStore): Promise<Findings> {
  const problems = await attempt('integrity check', () => store.checkIntegrity());
  const runs = await attempt('reading the runs', () => store.listRuns({ limit: Number.MAX_SAFE_INTEGER }));
  if (typeof runs === 'string') return { problems: [...asList(problems), runs], warnings: [] };
  const found = asList(problems);
  for (const run of runs) {
    const checked = await attempt(`checking run ${run.runId}`, () => runProblems(store, run));
    found.push(...asList(checked));
  }
  const latest = runs[0];
  const warnings = latest === undefined ? [] : asList(await attempt('checking the latest run', () => latestRunWarnings(store, latest)));
  return { problems: found, warnings };
}

async function runProblems(store: ReadStore, run: RunRecord): Promise<string[]> {
  const problems: string[] = [];
  const sum = run.blankLines + run.inserted + run.updated + run.unchanged + run.rejected;
  if (sum !== run.linesRead) {
    problems.push(`run ${run.runId}: lines_read ${run.linesRead} != blank + inserted + updated + unchanged + rejected (${sum})`);
  }
  if (run.status === 'running') return problems;
  const t = await store.chunkTotals(run.runId);
  for (const k of ['linesRead', 'blankLines', 'inserted', 'updated', 'unchanged', 'rejected', 'chunks'] as const) {
    if (t[k] !== run[k]) problems.push(`run ${run.runId}: ${k} is ${run[k]} on the run but ${t[k]} over its committed chunks`);
  }
  return problems;
}

/** What a nightly operator must act on: the latest run did not complete, or rejected most of its lines. */
async function latestRunWarnings(store: ReadStore, run: RunRecord): Promise<string[]> {
  const id = run.runId;
  const db = store.label;
  const input = typeof run.settings.input === 'string' ? run.settings.input : undefined;
  const committed = await store.chunkTotals(id);
  const progress = `after committing ${plural(committed.linesRead, 'line')} in ${plural(committed.chunks, 'chunk')}`;
  const warnings: string[] = [];
  if (store.isStale(run)) warnings.push(`the latest run ${id} is stale: its process stopped ${progress}; resume it: ${resumeHint(db, id, input)}`);
  else if (run.status === 'failed') warnings.push(`the latest run ${id} failed ${progress} (${run.notes ?? 'no cause recorded'}); fix the cause, then resume it: ${resumeHint(db, id, input)}`);
  else if (run.status === 'cancelled') warnings.push(`the latest run ${id} was cancelled ${progress}; resume it: ${resumeHint(db, id, input)}`);
  const counts = run.status === 'running' ? committed : run;
  if (rejectRatio(counts) > DEFAULT_MAX_REJECT_RATIO) {
    warnings.push(`the latest run ${id} rejected ${fmtInt(counts.rejected)} of ${fmtInt(counts.linesRead - counts.blankLines)} non-blank lines; `
      + `is the feed in the expected format? See why: ${rejectsHint(db, id, true)}`);
  }
  return warnings;
}

/** `fn`'s result, or the one-line description of the SQLite error it met (anything else is a bug: thrown). */
async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | string> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !code.startsWith('SQLITE_')) throw err;
    return `${what}: ${(err as Error).message} (${code})`;
  }
}

function asList(v: string[] | string): string[] {
  return typeof v === 'string' ? [v] : v;
}
