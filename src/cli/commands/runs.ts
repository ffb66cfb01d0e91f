import type { Command } from 'commander';
import { isStale } from '../../store/run-owner';
import type { RunRecord } from '../../store/types';
import { durationMs, fmtDuration, fmtInt, table } from '../format';
import { intArg, openExisting, writeJson, type GlobalOpts } from '../shared';

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('List runs, or show one with its telemetry');
  runs.command('list', { isDefault: true })
    .description('List recent runs (newest first)')
    .option('--limit <n>', 'how many', intArg('--limit'), 20)
    .option('--status <status>', 'only runs with this status (running, completed, failed, cancelled)')
    .option('--json', 'print JSON')
    .action((opts: { limit: number; status?: RunRecord['status']; json?: boolean }, cmd: Command) => {
      using store = openExisting(cmd.optsWithGlobals<GlobalOpts>());
      const list = store.listRuns({ limit: opts.limit, status: opts.status });
      if (opts.json) return writeJson(list.map((r) => ({ ...r, stale: isStale(r, store.path) })));
      process.stdout.write(`${runsTable(list, store.path)}\n`);
    });
  runs.command('show')
    .description('Show one run, its counters and telemetry')
    .argument('<run-id>')
    .option('--json', 'print JSON')
    .action((runId: string, opts: { json?: boolean }, cmd: Command) => {
      using store = openExisting(cmd.optsWithGlobals<GlobalOpts>());
      const run = store.getRun(runId);
      const telemetry = store.readTelemetry(runId) ?? null;
      if (opts.json) return writeJson({ ...run, stale: isStale(run, store.path), telemetry });
      process.stdout.write(`${runsTable([run], store.path)}\n\nsettings  ${JSON.stringify(run.settings)}\nnotes     ${run.notes ?? '-'}\n`
        + `owner     pid ${run.ownerPid ?? '-'} on ${run.ownerHost ?? '-'}, heartbeat ${run.heartbeatAt ?? '-'}\n`
        + `telemetry ${JSON.stringify(telemetry, null, 2)}\n`);
    });
}

/** `dbPath`: where the runs' lock files are (see run-owner.ts); without it only heartbeats tell a stale run. */
export function runsTable(list: RunRecord[], dbPath?: string): string {
  return table(
    ['run_id', 'type', 'status', 'started', 'duration', 'lines', 'inserted', 'updated', 'unchanged', 'rejected', 'items/s'],
    list.map((r) => {
      const ms = durationMs(r.startedAt, r.finishedAt);
      const rate = ms !== null && ms > 0 ? fmtInt(((r.linesRead - r.blankLines) * 1000) / ms) : null;
      return [r.runId, r.runType, isStale(r, dbPath) ? 'stale (interrupted)' : r.status, r.startedAt.replace('T', ' ').slice(0, 19),
        fmtDuration(ms), fmtInt(r.linesRead), fmtInt(r.inserted), fmtInt(r.updated), fmtInt(r.unchanged), fmtInt(r.rejected), rate];
    }),
  );
}
