import { Option, type Command } from 'commander';
import { withReadStore } from '../../store/open-read-store';
import type { ReadStore } from '../../store/read-store';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../../store/types';
import { durationMs, escapeControl, fmtDuration, fmtInt, table } from '../format';
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
  if (opts.json) return writeJson(list.map((r) => ({ ...r, stale: store.isStale(r) })));
  process.stdout.write(`${runsTable(list, (r) => store.isStale(r))}\n`);
}

async function showRun(store: ReadStore, ref: string, json: boolean): Promise<void> {
  const run = await withCommittedCounts(store, await store.resolveRun(ref));
  const telemetry = await store.readTelemetry(run.runId) ?? null;
  if (json) return writeJson({ ...run, stale: store.isStale(run), telemetry });
  process.stdout.write(`${runsTable([run], (r) => store.isStale(r))}\n\n`
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

/** `isStale`: the backend's judgement of a running run (`ReadStore#isStale`). */
export function runsTable(list: RunRecord[], isStale: (r: RunRecord) => boolean): string {
  return table(
    ['run_id', 'type', 'status', 'started', 'duration', 'lines', 'inserted', 'updated', 'unchanged', 'rejected', 'chunks', 'items/s'],
    list.map((r) => {
      const ms = durationMs(r.startedAt, r.finishedAt);
      const rate = ms !== null && ms > 0 ? fmtInt(((r.linesRead - r.blankLines) * 1000) / ms) : null;
      return [r.runId, r.runType, isStale(r) ? 'stale (interrupted)' : r.status, r.startedAt.replace('T', ' ').slice(0, 19),
        fmtDuration(ms), fmtInt(r.linesRead), fmtInt(r.inserted), fmtInt(r.updated), fmtInt(r.unchanged), fmtInt(r.rejected),
        fmtInt(r.chunks), rate];
    }),
  );
}
