import { Option, type Command } from 'commander';
import type { StateStore } from '../../store';
import { isStale } from '../../store/run-owner';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../../store/types';
import { durationMs, escapeControl, fmtDuration, fmtInt, table } from '../format';
import { intArg, openExisting, writeJson, type GlobalOpts } from '../shared';

interface ListOpts { limit: number; status?: RunStatus; json?: boolean }

export function registerRuns(program: Command): void {
  const runs = program.command('runs')
    .description('List recent runs (newest first), or show one with `runs show <run-id>`')
    .option('--limit <n>', 'how many', intArg('--limit', 1), 20)
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .option('--json', 'print JSON')
    .action((opts: ListOpts, cmd: Command) => {
      using store = openExisting(cmd.optsWithGlobals<GlobalOpts>());
      const list = store.listRuns({ limit: opts.limit, status: opts.status }).map((r) => withCommittedCounts(store, r));
      if (opts.json) return writeJson(list.map((r) => ({ ...r, stale: isStale(r, store.path) })));
      process.stdout.write(`${runsTable(list, store.path)}\n`);
    });
  runs.command('show')
    .description('Show one run, its counters and telemetry')
    .argument('<run-id>', 'a run id, `latest`, or a unique prefix of an id')
    .option('--json', 'print JSON')
    .action((ref: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOpts & { json?: boolean }>();
      using store = openExisting(opts);
      const run = withCommittedCounts(store, store.resolveRun(ref));
      const telemetry = store.readTelemetry(run.runId) ?? null;
      if (opts.json) return writeJson({ ...run, stale: isStale(run, store.path), telemetry });
      process.stdout.write(`${runsTable([run], store.path)}\n\n`
        + `settings  ${escapeControl(JSON.stringify(run.settings))}\nnotes     ${escapeControl(run.notes ?? '-')}\n`
        + `owner     pid ${run.ownerPid ?? '-'} on ${escapeControl(run.ownerHost ?? '-')}, heartbeat ${run.heartbeatAt ?? '-'}\n`
        + `telemetry ${JSON.stringify(telemetry, null, 2)}\n`);
    });
}

/**
 * A run's counters are written when it finishes; while it runs, or after its
 * process died (stale), the committed chunks are the truth, so they are shown.
 */
export function withCommittedCounts(store: StateStore, r: RunRecord): RunRecord {
  return r.status === 'running' ? { ...r, ...store.chunkTotals(r.runId) } : r;
}

/** `dbPath`: where the runs' lock files are (see run-owner.ts); without it only heartbeats tell a stale run. */
export function runsTable(list: RunRecord[], dbPath?: string): string {
  return table(
    ['run_id', 'type', 'status', 'started', 'duration', 'lines', 'inserted', 'updated', 'unchanged', 'rejected', 'chunks', 'items/s'],
    list.map((r) => {
      const ms = durationMs(r.startedAt, r.finishedAt);
      const rate = ms !== null && ms > 0 ? fmtInt(((r.linesRead - r.blankLines) * 1000) / ms) : null;
      return [r.runId, r.runType, isStale(r, dbPath) ? 'stale (interrupted)' : r.status, r.startedAt.replace('T', ' ').slice(0, 19),
        fmtDuration(ms), fmtInt(r.linesRead), fmtInt(r.inserted), fmtInt(r.updated), fmtInt(r.unchanged), fmtInt(r.rejected),
        fmtInt(r.chunks), rate];
    }),
  );
}
