import { Option, type Command } from 'commander';
import { withReadStore } from '../../backend/open-read-store';
import type { ReadStore } from '../../store/read-store';
import { perSecond, runTimes, type RunTimes } from '../../store/run-times';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../../store/types';
import { displayWidth, escapeControl, fmtDuration, fmtInt, table, terminalWidth, type Column } from '../format';
import { intArg, resolveTarget, writeJson, type GlobalOpts } from '../shared';

interface ListOpts { limit: number; status?: RunStatus; json?: boolean }

export function registerRuns(program: Command): void {
  const runs = program.command('runs')
    .description('List recent runs (newest first), or show one with `runs show <run-id>`')
    .option('--limit <n>', 'how many', intArg('--limit', 1), 20)
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .option('--json', 'print JSON')
    .action((opts: ListOpts, cmd: Command) => withReadStore(resolveTarget(cmd.optsWithGlobals<GlobalOpts>()), (store) => listRuns(store, opts)));
  runs.command('show')
    .description('Show one run, its counters and telemetry')
    .argument('<run-id>', 'a run id, `latest`, or a unique prefix of an id')
    .option('--json', 'print JSON')
    .action((ref: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOpts & { json?: boolean }>();
      return withReadStore(resolveTarget(opts), (store) => showRun(store, ref, opts.json === true));
    });
}

async function listRuns(store: ReadStore, opts: ListOpts): Promise<void> {
  const runs = await store.listRuns({ limit: opts.limit, status: opts.status });
  const list = await Promise.all(runs.map((r) => withCommittedCounts(store, r)));
  if (opts.json) return writeJson(list.map((r) => withTimes(r, store.isStale(r))));
  process.stdout.write(`${runsTable(list, (r) => store.isStale(r))}\n`);
  // A glance at the trend, for people: a terminal that shows block characters, never a pipe.
  if (process.stdout.isTTY === true && process.env.TERM !== 'dumb') {
    const line = rateSparkline(list.slice(0, SPARK_RUNS), (r) => store.isStale(r));
    if (line !== '') process.stdout.write(`${line}\n`);
  }
}

/** Runs in the `runs` sparkline. */
const SPARK_RUNS = 14;
const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * The items/s of `list` (newest first, as `runs` lists them) as one line of
 * block characters, oldest first, scaled from 0 to the fastest:
 * `items/s, last 6 runs (oldest first): ▁▂▅▇█▆  1,204-18,222`. A run without
 * working time is a space. Empty for fewer than two rates.
 */
export function rateSparkline(list: readonly RunRecord[], isStale: (r: RunRecord) => boolean, now = Date.now()): string {
  const rates = [...list].reverse().map((r) => {
    const { workingMs } = runTimes(r, now, isStale(r));
    return workingMs > 0 ? perSecond(r.linesRead - r.blankLines, workingMs) : null;
  });
  const known = rates.filter((v): v is number => v !== null);
  if (known.length < 2) return '';
  const max = Math.max(...known);
  const bars = rates.map((v) => (v === null ? ' ' : BLOCKS[max > 0 ? Math.min(7, Math.floor((v / max) * 7.999)) : 0])).join('');
  return `items/s, last ${rates.length} runs (oldest first): ${bars}  ${fmtInt(Math.min(...known))}-${fmtInt(max)}`;
}

async function showRun(store: ReadStore, ref: string, json: boolean): Promise<void> {
  const run = await withCommittedCounts(store, await store.resolveRun(ref));
  const telemetry = await store.readTelemetry(run.runId) ?? null;
  const stale = store.isStale(run);
  if (json) return writeJson({ ...withTimes(run, stale), telemetry });
  process.stdout.write(`${showRunText(run, stale, telemetry)}\n`);
}

type Row = readonly [key: string, value: string];

/**
 * `runs show`: the run, then its settings and its telemetry, each a block of
 * aligned `key  value` lines.
 */
export function showRunText(r: RunRecord, stale: boolean, telemetry: unknown): string {
  const block = (title: string, rows: Row[]) => `${title}\n${keyValues(rows, '  ')}`;
  return [keyValues(runRows(r, stale)), block('settings', flatten('', r.settings)), block('telemetry', flatten('', telemetry ?? null))].join('\n');
}

function runRows(r: RunRecord, stale: boolean): Row[] {
  const { workingMs, elapsedMs } = runTimes(r, Date.now(), stale);
  return [
    ['run', r.runId], ['type', r.runType], ['status', stale ? `${r.status}, interrupted (its process is gone; --resume finishes it)` : r.status],
    ['started', r.startedAt], ['finished', r.finishedAt ?? '-'],
    ['time', `${fmtDuration(workingMs)} of work, ${fmtDuration(elapsedMs)} since it started (${fmtDuration(r.interruptedMs)} interrupted)`],
    ['items/s', workingMs > 0 ? fmtInt(perSecond(r.linesRead - r.blankLines, workingMs)) : '-'],
    ['lines', `${fmtInt(r.linesRead)} = ${fmtInt(r.blankLines)} blank + ${fmtInt(r.inserted)} inserted + ${fmtInt(r.updated)} updated + `
      + `${fmtInt(r.unchanged)} unchanged + ${fmtInt(r.rejected)} rejected`],
    ['chunks', fmtInt(r.chunks)],
    ['owner', `pid ${r.ownerPid ?? '-'} on ${r.ownerHost ?? '-'}, heartbeat ${r.heartbeatAt ?? '-'}`],
    ['notes', r.notes ?? '-'],
  ];
}

/**
 * A nested value as `key  value` rows with dotted keys (`workers.thread-1.parseMs`),
 * each under `prefix`: readable on a terminal, and each line greppable.
 */
export function flatten(prefix: string, v: unknown): Row[] {
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    if (entries.length === 0) return [[prefix || '-', Array.isArray(v) ? '[]' : '{}']];
    if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) return [[prefix, v.map((x) => scalar(x)).join(', ')]];
    return entries.flatMap(([k, x]) => flatten(prefix === '' ? k : `${prefix}.${k}`, x));
  }
  return [[prefix || '-', scalar(v)]];
}

function scalar(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '-' : JSON.stringify(v);
}

/** Rows as aligned `key  value` lines, control characters escaped. */
export function keyValues(rows: readonly Row[], indent = ''): string {
  const width = Math.max(...rows.map(([k]) => displayWidth(escapeControl(k))));
  return rows.map(([k, v]) => `${indent}${escapeControl(k).padEnd(width)}  ${escapeControl(v)}`).join('\n');
}

/**
 * A run's counters are written when it finishes; while it runs, or after its
 * process died (stale), the committed chunks are the truth, so they are shown.
 */
export async function withCommittedCounts(store: ReadStore, r: RunRecord): Promise<RunRecord> {
  return r.status === 'running' ? { ...r, ...await store.chunkTotals(r.runId) } : r;
}

/** What `runs --json` and `runs show --json` print of a run: its record, whether it is stale, and its times. */
function withTimes(r: RunRecord, stale: boolean): RunRecord & RunTimes & { stale: boolean } {
  return { ...r, stale, ...runTimes(r, Date.now(), stale) };
}

/**
 * The columns of `runs`, in the order a narrow terminal gives them up: an id
 * cut to its first characters (still a unique prefix, as `runs show` takes),
 * then type, chunks, unchanged, updated, items/s, duration.
 */
const RUN_COLUMNS: readonly Column[] = [
  { header: 'run_id', shrinkTo: 9 }, { header: 'type', dropOrder: 1 }, { header: 'status' }, { header: 'started' },
  { header: 'duration', dropOrder: 6 }, { header: 'lines' }, { header: 'inserted' }, { header: 'updated', dropOrder: 4 },
  { header: 'unchanged', dropOrder: 3 }, { header: 'rejected' }, { header: 'chunks', dropOrder: 2 }, { header: 'items/s', dropOrder: 5 },
];

/**
 * `isStale`: the backend's judgement of a running run (`ReadStore#isStale`).
 * The duration is the run's working time (so far, for a run not ended), and
 * items/s is over it.
 */
export function runsTable(list: RunRecord[], isStale: (r: RunRecord) => boolean, width = terminalWidth()): string {
  const now = Date.now();
  return table(
    RUN_COLUMNS,
    list.map((r) => {
      const stale = isStale(r);
      const { workingMs } = runTimes(r, now, stale);
      return [r.runId, r.runType, stale ? 'interrupted' : r.status, r.startedAt.replace('T', ' ').slice(0, 16),
        fmtDuration(workingMs), fmtInt(r.linesRead), fmtInt(r.inserted), fmtInt(r.updated), fmtInt(r.unchanged), fmtInt(r.rejected),
        fmtInt(r.chunks), workingMs > 0 ? fmtInt(perSecond(r.linesRead - r.blankLines, workingMs)) : null];
    }),
    width,
  );
}
