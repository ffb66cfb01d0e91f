import type { Command } from 'commander';
import { renderReportFrom } from '../../report';
import { withReadStore } from '../../backend/open-read-store';
import { targetLabel, type DbTarget } from '../../store/target';
import { CliError, EXIT } from '../exit-codes';
import { fmtInt } from '../format';
import { selfCommand } from '../hints';
import type { ProtectedFiles } from '../output-guard';
import { checkWritable, writeFileAtomic } from '../report-files';
import { intArg, resolveTarget, type GlobalOpts } from '../shared';

interface ReportOpts { run: string; output?: string; recent: number }

export function registerReport(program: Command): void {
  program.command('report')
    .description('Write one run\'s report as a self-contained HTML page (charts included, nothing loaded from the network): its figures, throughput, time per worker, rejects, scores, and the last runs')
    .option('--run <run-id>', 'the run: an id, `latest`, or a unique prefix of an id', 'latest')
    .option('-o, --output <file>', 'write the page to this file (replaced atomically); without it, to stdout when that is not a terminal')
    .option('--recent <n>', 'runs of the database in the trend charts', intArg('--recent', 1), 14)
    .action(async (opts: ReportOpts, cmd: Command) => {
      const target = resolveTarget(cmd.optsWithGlobals<GlobalOpts>());
      if (opts.output === undefined && process.stdout.isTTY === true) {
        throw new CliError('the report is an HTML page: give -o FILE (e.g. -o run.html), or redirect stdout to a file', EXIT.USAGE, 'ERR_USAGE');
      }
      const guard: ProtectedFiles = { dbPath: target.kind === 'sqlite' ? target.path : undefined };
      const path = opts.output === undefined ? undefined : checkWritable('--output', opts.output, guard);
      const { runId, html } = await reportPage(target, opts.run, opts.recent);
      if (path === undefined) {
        process.stdout.write(html);
        return;
      }
      writeFileAtomic('--output', path, html, guard);
      process.stderr.write(`wrote the report of run ${runId} to ${path} (${fmtInt(Buffer.byteLength(html) / 1024)} KiB)\n`);
    });
}

/** The page of run `ref` on `target`, its resume command as this CLI prints it. */
export async function reportPage(target: DbTarget, ref: string, recentRuns = 14): Promise<{ runId: string; html: string }> {
  return withReadStore(target, async (store) => {
    const { runId } = await store.resolveRun(ref);
    return { runId, html: await renderReportFrom(store, runId, { recentRuns, command: selfCommand() }) };
  });
}

/**
 * `ingest --report`: the page of the run just ended, written atomically
 * through the guard. Returns false (the error logged) when it could not be
 * made or written: the run's outcome stands, the job fails.
 */
export async function writeRunReport(
  target: DbTarget, runId: string, path: string, guard: ProtectedFiles, log: { error: (msg: string) => void; info: (msg: string) => void },
): Promise<boolean> {
  try {
    const { html } = await reportPage(target, runId);
    writeFileAtomic('--report', path, html, guard);
    log.info(`run report: ${path} (open it in a browser; ${targetLabel(target)})`);
    return true;
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    log.error(`${typeof e.code === 'string' ? e.code : 'ERR_OUTPUT'}: the run report --report ${path} was not written: ${String(e.message ?? err)}`);
    return false;
  }
}
