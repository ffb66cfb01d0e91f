import { toError } from '../errors';
import type { RunSummary } from '../pipeline/types';
import { withReadStore } from '../backend/open-read-store';
import { targetLabel, type DbTarget } from '../store/target';
import { fmtDuration, fmtInt, plural } from './format';
import { nextStepHint, rejectsHint } from './hints';
import { jsonText } from './json-out';
import type { Logger } from './logger';
import type { ProtectedFiles } from './output-guard';
import type { RejectsLinesReport } from './rejects-lines';
import { writeFileAtomic } from './report-files';

export interface ReportError { code: string; message: string }

/** What `--summary-file` and `--metrics-file` hold when the run could not start. */
export interface SetupFailureReport { error: ReportError; finishedAt: string; dbPath: string; input: string | null }

/** What `ingest --json` prints and `--summary-file` holds: the run's summary, where it ran, and why it failed. */
export interface RunReport extends RunSummary {
  /** Absolute path of the database; for PostgreSQL its URL without the password. */
  dbPath: string;
  /** Absolute path of the input file; null for stdin. */
  input: string | null;
  /** Rejected lines per code (empty when none were). */
  rejectsByCode: Record<string, number>;
  finishedAt: string;
  error?: ReportError;
  /** What `--rejects-lines` holds, when it was asked for and written. */
  rejectsLines?: RejectsLinesReport;
}

/** The report of a run that started; the rejects are counted per code from the database. */
export async function buildReport(
  s: RunSummary, where: { target: DbTarget; input: string | null }, log: Logger, error?: ReportError,
): Promise<RunReport> {
  const rejects = await rejectsByCode(where.target, s, log);
  return {
    ...s, dbPath: targetLabel(where.target), input: where.input, rejectsByCode: rejects, finishedAt: new Date().toISOString(),
    ...(error === undefined ? {} : { error }),
  };
}

/** A failed count must not hide the run's outcome: the report is made without it. */
async function rejectsByCode(target: DbTarget, s: RunSummary, log: Logger): Promise<Record<string, number>> {
  if (s.rejected === 0) return {};
  try {
    const counts = await withReadStore(target, (store) => store.rejectCounts(s.runId));
    return Object.fromEntries(counts.map((c) => [c.code, c.count]));
  } catch (err) {
    log.warn(`the rejects could not be counted per code: ${toError(err).message}`);
    return {};
  }
}

export function reportError(err: unknown): ReportError {
  const e = toError(err);
  const code = (e as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : 'ERR_INTERNAL', message: e.message };
}

/** The summary as log lines: info when the run completed, warn when cancelled, error when it failed; the first carries the report. */
export function logSummary(log: Logger, report: RunReport): void {
  const level = report.error !== undefined ? 'error' : report.status === 'completed' ? 'info' : report.status === 'cancelled' ? 'warn' : 'error';
  summaryLines(report).forEach((line, i) => {
    if (i === 0) log[level]({ summary: report }, line);
    else log[level](line);
  });
}

/** Where `--summary-file` and `--metrics-file` go, and what they must never overwrite. */
export interface ReportFiles { summary?: string; metrics?: string; guard: ProtectedFiles }

/**
 * Writes the report to `--summary-file` (JSON) and `--metrics-file`
 * (OpenMetrics), each atomically; a file that cannot be written is logged
 * and counted (the caller fails the job: an output the operator asked for
 * and did not get is a failed night), and the other is still written.
 */
export function writeReportFiles(files: ReportFiles, report: RunReport | SetupFailureReport, log: Logger): number {
  const outputs: [string, string | undefined, () => string][] = [
    ['--summary-file', files.summary, () => `${jsonText(report, 2)}\n`], ['--metrics-file', files.metrics, () => metricsText(report)],
  ];
  let failed = 0;
  for (const [flag, path, text] of outputs) {
    if (path === undefined) continue;
    try {
      writeFileAtomic(flag, path, text(), files.guard);
    } catch (err) {
      failed++;
      log.error(`${reportError(err).code}: ${toError(err).message}`);
    }
  }
  return failed;
}

/**
 * The run's summary as a few human lines (each one log line): outcome and
 * speed, the line counts, the files, the rejects per code with the command
 * that lists them, the error, and the command that resumes the run.
 */
export function summaryLines(r: RunReport): string[] {
  const lines = [
    `run ${r.runId} ${r.status} in ${took(r, `${fmtInt(r.itemsPerSecond)} items/s, ${plural(r.workers, 'worker')}, chunks of ${r.chunkSize !== undefined ? fmtInt(r.chunkSize) : `${fmtInt(r.chunkBytes ?? 0)} bytes`}`)}`,
    `lines ${fmtInt(r.linesRead)} = blank ${fmtInt(r.blankLines)} + inserted ${fmtInt(r.inserted)} + updated ${fmtInt(r.updated)}`
      + ` + unchanged ${fmtInt(r.unchanged)} + rejected ${fmtInt(r.rejected)}; ${plural(r.chunks, 'chunk')} committed`
      + (r.resumedChunks > 0 ? ` (${fmtInt(r.resumedChunks)} ${r.chunkBytes === undefined ? 'before the resume' : 'by other processes or before a resume'})` : ''),
    `database ${r.dbPath}, input ${r.input ?? 'stdin'}`,
  ];
  const codes = Object.entries(r.rejectsByCode);
  if (codes.length > 0) {
    lines.push(`rejected ${plural(r.rejected, 'line')}: ${codes.map(([code, n]) => `${code} ${fmtInt(n)}`).join(', ')}; `
      + `list them: ${rejectsHint(r.dbPath, r.runId)}`);
  }
  if (r.rejectsLines !== undefined) lines.push(rejectsLinesLine(r.rejectsLines));
  if (r.error !== undefined) lines.push(`error ${r.error.code}: ${r.error.message}`);
  if (r.status !== 'completed') lines.push(nextStepHint(r));
  return lines;
}

/** Where the rejected lines went, and whether the cap cut the file short. */
function rejectsLinesLine(f: RejectsLinesReport): string {
  return f.truncated
    ? `rejected lines as they came: ${f.path}, cut at --rejects-lines-max-bytes ${fmtInt(f.maxBytes)}: `
      + `${fmtInt(f.linesWritten)} of ${fmtInt(f.rejected)} lines written (${fmtInt(f.bytes)} bytes)`
    : `rejected lines as they came: ${f.path} (${plural(f.linesWritten, 'line')}, ${fmtInt(f.bytes)} bytes)`;
}

/**
 * The run's working time with `details` in parentheses, and its elapsed time
 * too when the two read differently (it sat interrupted before a resume):
 * `511ms (details)`, `12.3s of work (2h 5m since it started, resumed; details)`.
 */
function took(r: RunReport, details: string): string {
  const working = fmtDuration(r.workingMs);
  const elapsed = fmtDuration(r.elapsedMs);
  return working === elapsed ? `${working} (${details})` : `${working} of work (${elapsed} since it started, resumed; ${details})`;
}

/**
 * The report as OpenMetrics text for node_exporter's textfile collector
 * (Prometheus text format; `# EOF` is a comment to it). Gauges of the last
 * run only: no run id label, so a nightly job adds no series.
 */
export function metricsText(r: RunReport | SetupFailureReport): string {
  const out: string[] = [];
  const gauge = (name: string, help: string, samples: [labels: string, value: number][]) => {
    out.push(`# TYPE brand_orchestrator_${name} gauge`, `# HELP brand_orchestrator_${name} ${help}`);
    for (const [labels, value] of samples) out.push(`brand_orchestrator_${name}${labels} ${value}`);
  };
  const status = 'status' in r ? r.status : 'error';
  gauge('last_run_success', 'Whether the last ingest completed (1) or not (0).', [['', status === 'completed' ? 1 : 0]]);
  gauge('last_run_status', 'The last ingest\'s outcome (1 for the one it had).',
    ['completed', 'failed', 'cancelled', 'error'].map((s) => [`{status="${s}"}`, s === status ? 1 : 0]));
  gauge('last_run_finished_timestamp_seconds', 'When the last ingest ended (Unix time).', [['', Date.parse(r.finishedAt) / 1000]]);
  if ('runId' in r) {
    gauge('last_run_duration_seconds', 'Working time of the last ingest: from its start to its end, less the time it sat interrupted before a resume.',
      [['', r.workingMs / 1000]]);
    gauge('last_run_elapsed_seconds', 'From the last ingest\'s start to its end, interruptions included.', [['', r.elapsedMs / 1000]]);
    gauge('last_run_lines', 'Lines of the last ingest by outcome.',
      (['blankLines', 'inserted', 'updated', 'unchanged', 'rejected'] as const).map((k) => [`{outcome="${k === 'blankLines' ? 'blank' : k}"}`, r[k]]));
    gauge('last_run_rejects', 'Rejected lines of the last ingest by reject code.',
      Object.entries(r.rejectsByCode).map(([code, n]) => [`{code="${labelValue(code)}"}`, n]));
    gauge('last_run_items_per_second', 'Non-blank lines of the last ingest per second of its working time.', [['', r.itemsPerSecond]]);
  }
  if (r.error !== undefined) gauge('last_run_error', 'The error code of the last ingest, if it failed.', [[`{code="${labelValue(r.error.code)}"}`, 1]]);
  return `${out.join('\n')}\n# EOF\n`;
}

function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
