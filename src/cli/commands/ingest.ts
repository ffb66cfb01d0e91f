import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { runPipeline, type PipelineFailure } from '../../pipeline';
import type { RunSummary } from '../../pipeline/types';
import { CliError, EXIT } from '../exit-codes';
import { fmtDuration, fmtInt } from '../format';
import { mustReport, outcomeLines } from '../outcome';
import { createProgress } from '../progress';
import { RejectsFile } from '../rejects-file';
import { intArg, resolveDb, type GlobalOpts } from '../shared';

interface IngestOpts extends GlobalOpts {
  runId?: string; runType: string; workers?: number; chunkSize?: number; maxRejects?: number; rejects?: string;
  synchronous: string; json?: boolean; quiet?: boolean; resume?: string; parseAll?: boolean; force?: boolean;
}

export function registerIngest(program: Command): void {
  program.command('ingest')
    .description('Ingest an NDJSON feed (a file, a .gz file, or - for stdin) with the worker pipeline')
    .argument('<file>', 'NDJSON file, gzip file, or - for stdin')
    .option('--db <path>', 'database path (default: BRAND_ORCH_DB_PATH or ./data/brand_orchestrator.sqlite)')
    .option('--run-id <id>', 'id for the new run (default: a UUID)')
    .option('--run-type <type>', 'run type recorded on the run', 'nightly')
    .option('--resume <run-id>', 'resume an interrupted run: skip its committed chunks')
    .option('--force', 'with --resume: take the run over even if its owner looks alive (only when you know it has stopped)')
    .option('--workers <n>', 'worker threads (default: available cores)', intArg('--workers'))
    .option('--chunk-size <n>', 'lines per chunk/transaction (default: 10000)', intArg('--chunk-size'))
    .option('--max-rejects <n>', 'fail the run after this many rejected lines', intArg('--max-rejects'))
    .option('--rejects <file>', 'also write the run\'s rejects to this NDJSON file')
    .option('--synchronous <mode>', 'SQLite synchronous: normal or full', 'normal')
    .option('--parse-all', 'parse every line, even one identical to the line behind its stored row (skipped as unchanged otherwise)')
    .option('--json', 'print the run summary as one JSON object on stdout, nothing else')
    .option('--quiet', 'no progress output')
    .action(async (file: string, opts: IngestOpts, cmd: Command) => {
      process.exitCode = await ingest(file, { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts });
    });
}

async function ingest(file: string, opts: IngestOpts): Promise<number> {
  const sync = opts.synchronous.toUpperCase();
  if (sync !== 'NORMAL' && sync !== 'FULL') throw new CliError(`--synchronous must be normal or full, got ${JSON.stringify(opts.synchronous)}`);
  const dbPath = resolveDb(opts);
  // Found out now, not after an hour of ingesting.
  const rejectsFile = opts.rejects === undefined ? undefined : RejectsFile.open(opts.rejects, { dbPath, input: file });
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(EXIT.INTERRUPTED); // every chunk is one transaction: nothing half-written
    if (!opts.json) process.stderr.write(`\n${sig}: finishing in-flight chunks, then stopping (again to exit at once)\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const mode = opts.quiet || opts.json ? 'none' : process.stderr.isTTY ? 'tty' : 'log';
  const progress = createProgress(mode, file === '-' ? undefined : fileSize(file));
  let summary: RunSummary;
  let failure: PipelineFailure | undefined;
  try {
    summary = await runPipeline({
      input: file === '-' ? process.stdin : file, dbPath, runId: opts.runId, runType: opts.runType, resume: opts.resume, force: opts.force,
      workers: opts.workers, chunkSize: opts.chunkSize, maxRejects: opts.maxRejects, synchronous: sync, parseAll: opts.parseAll === true,
      signal: ac.signal, onProgress: (e) => progress.update(e), progressIntervalMs: mode === 'tty' ? 200 : 1000,
    });
  } catch (err) {
    const f = err as PipelineFailure;
    if (f.summary === undefined) throw err; // setup error: no run was started
    failure = f;
    summary = f.summary;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(failure ? { ...summary, error: { code: failure.code, message: failure.message } } : summary)}\n`);
  else if (!opts.quiet || mustReport(summary, failure !== undefined)) printSummary(summary, failure);
  if (rejectsFile !== undefined) {
    try {
      rejectsFile.commit(dbPath, summary.runId);
    } catch (err) {
      throw new CliError(`The run's rejects could not be written to ${String(opts.rejects)}: ${(err as Error).message}`, EXIT.FAILED);
    }
  }
  if (failure) return EXIT.FAILED;
  return summary.status === 'cancelled' ? EXIT.INTERRUPTED : EXIT.OK;
}

function fileSize(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined; // runPipeline reports the unreadable input
  }
}

function printSummary(s: RunSummary, failure: PipelineFailure | undefined): void {
  const lines = [
    `run ${s.runId}: ${s.status} in ${fmtDuration(s.durationMs)} (${fmtInt(s.itemsPerSecond)} items/s, ${s.workers} workers, chunks of ${fmtInt(s.chunkSize)})`,
    `  lines ${fmtInt(s.linesRead)} = blank ${fmtInt(s.blankLines)} + inserted ${fmtInt(s.inserted)} + updated ${fmtInt(s.updated)}`
      + ` + unchanged ${fmtInt(s.unchanged)} + rejected ${fmtInt(s.rejected)}; ${fmtInt(s.chunks)} chunks committed`
      + (s.resumedChunks > 0 ? ` (${fmtInt(s.resumedChunks)} from before the resume)` : ''),
  ];
  if (failure) lines.push(`  error ${failure.code}: ${failure.message}`);
  lines.push(...outcomeLines(s, failure?.code));
  process.stderr.write(`${lines.join('\n')}\n`);
}
