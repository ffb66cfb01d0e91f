import { Option, type Command } from 'commander';
import { withReadStore } from '../../store/open-read-store';
import type { ReadStore } from '../../store/read-store';
import { perSecond, runTimes, type RunTimes } from '../../store/run-times';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../../store/types';
import { escapeControl, fmtDuration, fmtInt, table } from '../format';
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
}

async function showRun(store: ReadStore, ref: string, json: boolean): Promise<void> {
  const run = await withCommittedCounts(store, await store.resolveRun(ref));
  const telemetry = await store.readTelemetry(run.runId) ?? null;
  const shown = withTimes(run, store.isStale(run));
  if (json) return writeJson({ ...shown, telemetry });
  process.stdout.write(`${runsTable([run], (r) => store.isStale(r))}\n\n`
    + `time      ${fmtDuration(shown.workingMs)} of work, ${fmtDuration(shown.elapsedMs)} since it started (${fmtDuration(run.interruptedMs)} interrupted)\n`
    + `settings  ${escapeControl(JSON.stringify(run.settings))}\nnotes     ${escapeControl(run.notes ?? '-')}\n`
    + `owner     pid ${run.ownerPid ?? '-'} on ${escapeControl(run.ownerHost ?? '-')}, heartbeat ${run.heartbeatAt ?? '-'}\n`
    + `telemetry ${JSON.stringify(telemetry, null, 2)}\n`);
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
 * `isStale`: the backend's judgement of a running run (`ReadStore#isStale`).
 * The duration is the run's working time (so far, for a run not ended), and
 * items/s is over it.
 */
export function runsTable(list: RunRecord[], isStale: (r: RunRecord) => boolean): string {
  const now = Date.now();
  return table(
    ['run_id', 'type', 'status', 'started', 'duration', 'lines', 'inserted', 'updated', 'unchanged', 'rejected', 'chunks', 'items/s'],
    list.map((r) => {
      const stale = isStale(r);
      const { workingMs } = runTimes(r, now, stale);
      return [r.runId, r.runType, stale ? 'stale (interrupted)' : r.status, r.startedAt.replace('T', ' ').slice(0, 19),
        fmtDuration(workingMs), fmtInt(r.linesRead), fmtInt(r.inserted), fmtInt(r.updated), fmtInt(r.unchanged), fmtInt(r.rejected),
        fmtInt(r.chunks), workingMs > 0 ? fmtInt(perSecond(r.linesRead - r.blankLines, workingMs)) : null];
    }),
  );
}
