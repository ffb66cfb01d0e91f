import { Option, type Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, openSync } from 'node:fs';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { loadConfig } from '../../config';
import { toError } from '../../errors';
import { runPipeline, type PipelineFailure } from '../../pipeline';
import type { RunSummary } from '../../pipeline/types';
import { StateStore } from '../../store';
import { CliError, EXIT, signalExitCode } from '../exit-codes';
import { atLeast, createLogger, type Logger } from '../logger';
import { createProgress } from '../progress';
import { checkWritable, writeFileAtomic } from '../report-files';
import { buildReport, metricsText, summaryLines, type RunReport } from '../run-report';
import { intArg, isDefaultDb, ratioOrNoneArg, resolveDb, type GlobalOpts } from '../shared';

interface IngestOpts extends GlobalOpts {
  runId?: string; runType: string; workers?: number; chunkSize?: number; maxRejects?: number; maxRejectRatio?: number | 'none';
  rejects?: string; synchronous: 'normal' | 'full'; json?: boolean; quiet?: boolean; resume?: string; parseAll?: boolean;
  summaryFile?: string; metricsFile?: string;
}

/** Where the report goes besides the log: absolute paths, checked before the run. */
interface ReportFiles { summary?: string; metrics?: string }

export function registerIngest(program: Command): void {
  program.command('ingest')
    .description('Ingest an NDJSON feed (a file, - for stdin; gzip is detected by its content) with the worker pipeline')
    .argument('<file>', 'NDJSON file (plain or gzip), or - for stdin')
    .option('--db <path>', 'database path (default: BRAND_ORCH_DB_PATH or ./data/brand_orchestrator.sqlite)')
    .option('--run-id <id>', 'id for the new run (default: a UUID)')
    .option('--run-type <type>', 'run type recorded on the run', 'nightly')
    .option('--resume <run-id>', 'resume an interrupted run (an id, `latest`, or a unique prefix): skip its committed chunks')
    .option('--workers <n>', 'worker threads (default: the cores, at most 4)', intArg('--workers', 1))
    .option('--chunk-size <n>', 'lines per chunk/transaction (default: 10000)', intArg('--chunk-size', 1))
    .option('--max-rejects <n>', 'fail the run after this many rejected lines', intArg('--max-rejects'))
    .option('--max-reject-ratio <r>', 'fail the run when more than this share of its non-blank lines is rejected, 0 to 1, or none (default: 0.5)',
      ratioOrNoneArg('--max-reject-ratio'))
    .option('--rejects <file>', 'also write the run\'s rejects to this NDJSON file')
    .addOption(new Option('--synchronous <mode>', 'SQLite synchronous').choices(['normal', 'full']).default('normal'))
    .option('--parse-all', 'parse every line, even one identical to the line behind its stored row (skipped as unchanged otherwise)')
    .option('--json', 'print the run summary as one JSON object on stdout, nothing else')
    .option('--summary-file <file>', 'also write the run summary as JSON to this file (replaced atomically)')
    .option('--metrics-file <file>', 'also write the run\'s metrics as OpenMetrics text, for node_exporter\'s textfile collector (name it *.prom)')
    .option('--quiet', 'no progress output; only warnings and errors')
    .action(async (file: string, opts: IngestOpts, cmd: Command) => {
      process.exitCode = await ingest(file, { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts });
    });
}

async function ingest(file: string, opts: IngestOpts): Promise<number> {
  const config = loadConfig(); // an invalid BRAND_ORCH_LOG_LEVEL stops here, before anything is written
  const dbPath = resolveDb(opts);
  const input = file === '-' ? null : resolve(file);
  const files: ReportFiles = {
    summary: opts.summaryFile === undefined ? undefined : checkWritable('--summary-file', opts.summaryFile),
    metrics: opts.metricsFile === undefined ? undefined : checkWritable('--metrics-file', opts.metricsFile),
  };
  const runId = opts.resume === undefined ? opts.runId ?? randomUUID() : resumedRunId(dbPath, opts.resume);
  const tty = process.stderr.isTTY === true;
  const log = createLogger({ level: opts.quiet || opts.json ? atLeast(config.logLevel, 'WARNING') : config.logLevel, runId, pretty: tty });
  // Found out now, not after an hour of ingesting.
  const rejectsFd = opts.rejects === undefined ? undefined : openForWriting(opts.rejects);
  const fresh = !existsSync(dbPath);
  log.debug({ options: opts }, 'options as given (the rest are defaults)');
  // Said once the run has started (its first chunk committed), so a setup error stays the only line.
  let announced = false;
  const announce = () => {
    announced = true;
    if (fresh && isDefaultDb(opts)) log.warn({ dbPath }, `no --db or BRAND_ORCH_DB_PATH: created a new database at the default path ${dbPath}`);
    log.info({ dbPath, input, resume: opts.resume !== undefined }, `${opts.resume === undefined ? 'ingesting' : 'resuming'} ${input ?? 'stdin'} into ${dbPath}${fresh ? ' (a new database)' : ''}`);
  };

  const ac = new AbortController();
  let signal: 'SIGINT' | 'SIGTERM' | undefined;
  const mode = opts.quiet || opts.json || !log.isLevelEnabled('info') ? 'none' : tty ? 'tty' : 'log';
  const progress = createProgress(mode, log);
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (signal !== undefined) process.exit(signalExitCode(sig)); // every chunk is one transaction: nothing half-written
    signal = sig;
    progress.stop(); // before the notice, so no redraw of the bar covers it
    log.warn(`${sig}: finishing in-flight chunks, then stopping (${sig} again to exit at once)`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summary: RunSummary;
  let failure: PipelineFailure | undefined;
  try {
    summary = await runPipeline({
      input: input ?? process.stdin, dbPath, runType: opts.runType, ...(opts.resume === undefined ? { runId } : { resume: runId }),
      workers: opts.workers, chunkSize: opts.chunkSize, maxRejects: opts.maxRejects, maxRejectRatio: opts.maxRejectRatio,
      synchronous: opts.synchronous === 'full' ? 'FULL' : 'NORMAL', parseAll: opts.parseAll === true,
      signal: ac.signal, onProgress: (e) => { if (!announced) announce(); progress.update(e); }, progressIntervalMs: mode === 'tty' ? 200 : log.isLevelEnabled('debug') ? 0 : 1000,
    });
  } catch (err) {
    const f = err as PipelineFailure;
    if (f.summary === undefined) { // setup error: no run was started
      writeReportFiles(files, { error: errorOf(err), finishedAt: new Date().toISOString(), dbPath, input }, log);
      throw err;
    }
    failure = f;
    summary = f.summary;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const report = buildReport(summary, { dbPath, input }, rejectsByCode(dbPath, summary, log), failure && errorOf(failure));
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  logSummary(log, report);
  writeReportFiles(files, report, log);
  if (rejectsFd !== undefined) {
    try {
      await writeRejects(dbPath, summary.runId, rejectsFd);
    } catch (err) {
      throw new CliError(`The run's rejects could not be written to ${String(opts.rejects)}: ${(err as Error).message}`, EXIT.FAILED);
    }
  }
  if (failure) return EXIT.FAILED;
  return summary.status === 'cancelled' ? signalExitCode(signal ?? 'SIGINT') : EXIT.OK;
}

/** The full id of the run `--resume` names (an id, `latest`, or a unique prefix). */
function resumedRunId(dbPath: string, ref: string): string {
  using store = StateStore.open(dbPath, { readonly: true });
  return store.resolveRun(ref).runId;
}

function errorOf(err: unknown): { code: string; message: string } {
  const e = toError(err);
  const code = (e as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : 'ERR_INTERNAL', message: e.message };
}

/** A failed count must not hide the run's outcome: the summary is printed without it. */
function rejectsByCode(dbPath: string, s: RunSummary, log: Logger): Record<string, number> {
  if (s.rejected === 0) return {};
  try {
    using store = StateStore.open(dbPath, { readonly: true });
    return Object.fromEntries(store.rejectCounts(s.runId).map((c) => [c.code, c.count]));
  } catch (err) {
    log.warn(`the rejects could not be counted per code: ${toError(err).message}`);
    return {};
  }
}

/** The summary as log lines: info when the run completed, warn when cancelled, error when it failed; the first carries the report. */
function logSummary(log: Logger, report: RunReport): void {
  const level = report.status === 'completed' ? 'info' : report.status === 'cancelled' ? 'warn' : 'error';
  summaryLines(report).forEach((line, i) => {
    if (i === 0) log[level]({ summary: report }, line);
    else log[level](line);
  });
}

function writeReportFiles(files: ReportFiles, report: RunReport | { error: { code: string; message: string }; finishedAt: string; dbPath: string; input: string | null }, log: Logger): void {
  for (const [path, text] of [[files.summary, () => `${JSON.stringify(report, null, 2)}\n`], [files.metrics, () => metricsText(report)]] as const) {
    if (path === undefined) continue;
    try {
      writeFileAtomic(path, text());
    } catch (err) {
      log.error(`could not write ${path}: ${toError(err).message}`);
    }
  }
}

function openForWriting(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw new CliError(`Cannot write --rejects ${path}: ${(err as Error).message}`);
  }
}

async function writeRejects(dbPath: string, runId: string, fd: number): Promise<void> {
  const out = createWriteStream('', { fd });
  using store = StateStore.open(dbPath, { readonly: true });
  for (const r of store.iterateRejects(runId)) {
    if (!out.write(`${JSON.stringify({ line_no: r.lineNo, code: r.code, reason: r.reason, excerpt: r.excerpt })}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
