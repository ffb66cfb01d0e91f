import { Option, type Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../config';
import { runPipeline, type PipelineFailure } from '../../backend';
import { CancelledError } from '../../errors';
import { withReadStore } from '../../backend/open-read-store';
import { targetLabel, type DbTarget } from '../../store/target';
import { CliError, EXIT, signalExitCode } from '../exit-codes';
import { atLeast, createLogger, type Logger } from '../logger';
import { jsonText } from '../json-out';
import { createProgress } from '../progress';
import { RejectFiles } from '../reject-files';
import { DEFAULT_REJECTS_LINES_MAX_BYTES, refuseOneShotInput } from '../rejects-lines';
import { refuseSameOutputs } from '../output-guard';
import { checkWritable } from '../report-files';
import { writeRunReport } from './report';
import { buildReport, logSummary, reportError, writeReportFiles, type ReportFiles, type RunReport } from '../run-report';
import { DB_HELP, intArg, isDefaultDb, ratioOrNoneArg, resolveTarget, type GlobalOpts } from '../shared';
import { withStopSignals } from '../signals';

interface IngestOpts extends GlobalOpts {
  runId?: string; runType: string; workers?: number; chunkSize?: number; maxRejects?: number; maxRejectRatio?: number | 'none';
  rejects?: string; rejectsLines?: string; rejectsLinesMaxBytes?: number; synchronous?: 'normal' | 'full'; json?: boolean; quiet?: boolean; resume?: string; parseAll?: boolean;
  summaryFile?: string; metricsFile?: string; report?: string; force?: boolean; join?: boolean; leaseMs?: number; maxOutageMs?: number; chunkBytes?: number;
}

export function registerIngest(program: Command): void {
  program.command('ingest')
    .description('Ingest an NDJSON feed (a file, - for stdin; gzip is detected by its content) with the worker pipeline')
    .argument('<file>', 'NDJSON file (plain or gzip), or - for stdin')
    .option('--db <path|url>', DB_HELP)
    .option('--run-id <id>', 'id for the new run (default: a UUID)')
    .option('--run-type <type>', 'run type recorded on the run', 'nightly')
    .option('--resume <run-id>', 'resume an interrupted run (an id, `latest`, or a unique prefix): skip its committed chunks')
    .option('--force', 'with --resume: take the run over even if its owner looks alive (only when you know it has stopped)')
    .option('--join', 'PostgreSQL: join the run --run-id that other processes (on other machines) work on, or start it; each process claims chunks of the same file')
    .option('--lease-ms <n>', 'PostgreSQL: how long a claimed chunk stays claimed without renewal; a dead process\'s chunks are taken over after it (default: 30000)', intArg('--lease-ms', 500))
    .option('--max-outage-ms <n>', 'PostgreSQL: how long a lost connection or a server that is away is retried, with back-off, before the run gives up (resumable) (default: 60000)', intArg('--max-outage-ms', 0))
    .option('--workers <n>', 'worker threads (default: the cores, at most 4)', intArg('--workers', 1))
    .option('--chunk-size <n>', 'lines per chunk/transaction (default: 2500; SQLite)', intArg('--chunk-size', 1))
    .option('--chunk-bytes <n>', 'bytes per chunk at most (default: 16 MiB on SQLite; on PostgreSQL chunks are planned by bytes alone, default 4 MiB)', intArg('--chunk-bytes', 1024))
    .option('--max-rejects <n>', 'fail the run after this many rejected lines', intArg('--max-rejects'))
    .option('--max-reject-ratio <r>', 'fail the run when more than this share of its non-blank lines is rejected, 0 to 1, or none (default: 0.5)',
      ratioOrNoneArg('--max-reject-ratio'))
    .option('--rejects <file>', 'also write the run\'s rejects to this NDJSON file')
    .option('--rejects-lines <file>', 'also write each rejected line, exactly as it came, to this file (to fix and ingest again; the input must be a file)')
    .option('--rejects-lines-max-bytes <n>', `at most this many bytes of whole lines in --rejects-lines (default: ${DEFAULT_REJECTS_LINES_MAX_BYTES / 1024 / 1024} MiB)`,
      intArg('--rejects-lines-max-bytes', 1))
    .addOption(new Option('--synchronous <mode>', 'SQLite synchronous (default: normal)').choices(['normal', 'full']))
    .option('--parse-all', 'parse every line, even one identical to the line behind its stored row (skipped as unchanged otherwise)')
    .option('--json', 'print the run summary as one JSON object on stdout, nothing else')
    .option('--summary-file <file>', 'also write the run summary as JSON to this file (replaced atomically)')
    .option('--metrics-file <file>', 'also write the run\'s metrics as OpenMetrics text, for node_exporter\'s textfile collector (name it *.prom)')
    .option('--report <file>', 'also write the run\'s report, a self-contained HTML page, at its end (failed or cancelled too)')
    .option('--quiet', 'no progress output; only warnings and errors')
    .action(async (file: string, opts: IngestOpts, cmd: Command) => {
      process.exitCode = await ingest(file, { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts });
    });
}

async function ingest(file: string, opts: IngestOpts): Promise<number> {
  const job = await prepare(file, opts);
  const { target, db, input, log } = job;
  const rejectFiles = RejectFiles.open(opts, job.files.guard);
  const progress = createProgress(job.progressMode, log);
  const announce = announcer(job, opts);
  const { outcome, signal } = await withStopSignals(log, progress, (abort) => runPipeline({
    input: input ?? process.stdin, ...(target.kind === 'sqlite' ? { dbPath: target.path } : { db: target.url }), runType: opts.runType,
    ...(opts.resume === undefined ? { runId: job.runId } : { resume: job.runId, ...(opts.force === true ? { force: true } : {}) }),
    ...(opts.join === true ? { join: true } : {}), leaseMs: opts.leaseMs, maxOutageMs: opts.maxOutageMs, maxChunkBytes: opts.chunkBytes,
    workers: opts.workers, chunkSize: opts.chunkSize, maxRejects: opts.maxRejects, maxRejectRatio: opts.maxRejectRatio,
    synchronous: opts.synchronous === undefined ? undefined : opts.synchronous === 'full' ? 'FULL' : 'NORMAL', parseAll: opts.parseAll === true, signal: abort,
    onProgress: (e) => { announce(); progress.update(e); },
    progressIntervalMs: job.progressMode === 'tty' ? 200 : log.isLevelEnabled('debug') ? 0 : 1000,
  }));
  const rejected = outcome.status === 'rejected' ? outcome.reason as PipelineFailure : undefined;
  // A cancelled run rejects (AbortError) but is not a failure: its summary, the resume hint, 128 + the signal.
  const failure = rejected instanceof CancelledError ? undefined : rejected;
  const summary = outcome.status === 'fulfilled' ? outcome.value : rejected?.summary;
  if (summary === undefined) rejectFiles.discard();
  if (summary === undefined && rejected instanceof CancelledError) { // stopped before the run started
    throw new CliError(rejected.message, signalExitCode(signal ?? 'SIGINT'), rejected.code);
  }
  if (summary === undefined) { // setup error: no run was started
    writeReportFiles(job.files, { error: reportError(failure), finishedAt: new Date().toISOString(), dbPath: db, input }, log);
    throw failure;
  }
  const rejectsLines = await rejectFiles.writeLines({ target, input }, summary.runId); // first: the summary says what it holds
  const report: RunReport = { ...await buildReport(summary, { target, input }, log, failure && reportError(failure)), ...(rejectsLines && { rejectsLines }) };
  if (opts.json) process.stdout.write(`${jsonText(report)}\n`);
  for (const w of summary.warnings ?? []) log.warn(w); // before the summary, whose last line is what to do next
  logSummary(log, report);
  let unwritten = writeReportFiles(job.files, report, log);
  await rejectFiles.writeReasons(target, summary.runId);
  if (job.reportPage !== undefined && !(await writeRunReport(target, summary.runId, job.reportPage, job.files.guard, log))) unwritten++;
  if (failure) return EXIT.FAILED;
  if (unwritten > 0) {
    // The data is in; the night still failed: a file the operator asked for is missing.
    log.error(`run ${summary.runId} is ${summary.status} and its data committed, but ${unwritten === 1 ? 'an output file' : 'output files'} could not be written (above)`);
    return EXIT.FAILED;
  }
  return summary.status === 'cancelled' ? signalExitCode(signal ?? 'SIGINT') : EXIT.OK;
}

interface Job {
  target: DbTarget;
  /** What messages name: the SQLite path, or the URL without its password. */
  db: string;
  /** Absolute; null for stdin. */
  input: string | null;
  runId: string;
  log: Logger;
  files: ReportFiles;
  /** `--report`, checked: the HTML page written at the run's end. */
  reportPage?: string;
  progressMode: 'tty' | 'log' | 'none';
  /** The SQLite file did not exist before this run (never true for a server database). */
  fresh: boolean;
}

/** Everything resolved and checked before the run starts (a bad value fails here, with exit 2). */
async function prepare(file: string, opts: IngestOpts): Promise<Job> {
  const config = loadConfig(); // an invalid BRAND_ORCH_LOG_LEVEL stops here, before anything is written
  const target = resolveTarget(opts); // so does a URL of an unsupported scheme
  if (opts.join === true && opts.runId === undefined) {
    throw new CliError('--join needs --run-id: every process of a shared run names the same run', EXIT.USAGE, 'ERR_USAGE');
  }
  // Every output path goes through the one guard: never the database, its companions or the input, never two flags on one file.
  const guard = { dbPath: target.kind === 'sqlite' ? target.path : undefined, input: file };
  if (opts.rejectsLinesMaxBytes !== undefined && opts.rejectsLines === undefined) {
    throw new CliError('--rejects-lines-max-bytes caps --rejects-lines: give --rejects-lines too', EXIT.USAGE, 'ERR_USAGE');
  }
  if (opts.rejectsLines !== undefined) refuseOneShotInput(file);
  refuseSameOutputs([['--rejects', opts.rejects], ['--rejects-lines', opts.rejectsLines], ['--summary-file', opts.summaryFile], ['--metrics-file', opts.metricsFile], ['--report', opts.report]]);
  const files: ReportFiles = {
    summary: opts.summaryFile === undefined ? undefined : checkWritable('--summary-file', opts.summaryFile, guard),
    metrics: opts.metricsFile === undefined ? undefined : checkWritable('--metrics-file', opts.metricsFile, guard),
    guard,
  };
  const runId = opts.resume === undefined ? opts.runId ?? randomUUID() : await resumedRunId(target, opts.resume);
  const tty = process.stderr.isTTY === true;
  const log = createLogger({ level: opts.quiet || opts.json ? atLeast(config.logLevel, 'WARNING') : config.logLevel, runId, pretty: tty });
  log.debug({ options: opts }, 'options as given (the rest are defaults)');
  const progressMode = opts.quiet || opts.json || !log.isLevelEnabled('info') ? 'none' : tty ? 'tty' : 'log';
  const fresh = target.kind === 'sqlite' && !existsSync(target.path);
  const reportPage = opts.report === undefined ? undefined : checkWritable('--report', opts.report, guard);
  return { target, db: targetLabel(target), input: file === '-' ? null : resolve(file), runId, log, files, reportPage, progressMode, fresh };
}

/**
 * Says what is ingested where, once, when the run has started (its first
 * progress event), so a setup error stays the only line on stderr.
 */
function announcer(job: Job, opts: IngestOpts): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const { log, db, input, fresh } = job;
    if (fresh && isDefaultDb(opts)) log.warn({ dbPath: db }, `no --db or BRAND_ORCH_DB_PATH: created a new database at the default path ${db}`);
    log.info({ dbPath: db, input, resume: opts.resume !== undefined },
      `${opts.resume === undefined ? 'ingesting' : 'resuming'} ${input ?? 'stdin'} into ${db}${fresh ? ' (a new database)' : ''}`);
  };
}

/** The full id of the run `--resume` names (an id, `latest`, or a unique prefix). */
async function resumedRunId(target: DbTarget, ref: string): Promise<string> {
  return withReadStore(target, async (store) => (await store.resolveRun(ref)).runId);
}
