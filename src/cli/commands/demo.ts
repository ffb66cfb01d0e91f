import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../config';
import { writeFeed } from '../../gen/generate';
import { runPipeline } from '../../backend';
import { InvalidOptionError } from '../../errors';
import { StateStore } from '../../sqlite';
import { isStale } from '../../sqlite/run-owner';
import { createLogger } from '../logger';
import { createProgress } from '../progress';
import { fmtDuration, fmtInt, plural } from '../format';
import { commandLine } from '../hints';
import { writeFileAtomic } from '../report-files';
import { reportPage } from './report';
import { runsTable } from './runs';
import { EXIT } from '../exit-codes';
import { resolveTarget, type GlobalOpts } from '../shared';

const DEMO_COUNT = 50_000;

export function registerDemo(program: Command): void {
  program.command('demo')
    .description(`The main job on the default database (or --db): generate a ${fmtInt(DEMO_COUNT)}-item sample feed (a few bad lines), ingest it, write its HTML report, list runs`)
    .action(async (_opts: unknown, cmd: Command) => {
      const config = loadConfig();
      const target = resolveTarget(cmd.optsWithGlobals<GlobalOpts>());
      // The demo is the quick start on one machine; a server database is for `ingest`.
      if (target.kind !== 'sqlite') throw new InvalidOptionError(`\`demo\` uses a SQLite file; give --db a file path, got ${target.label}`);
      const dbPath = target.path;
      const artifacts = resolve(config.artifactsDir);
      mkdirSync(artifacts, { recursive: true });
      const feed = join(artifacts, 'demo-feed.ndjson');
      if (!existsSync(feed)) {
        process.stderr.write(`generating ${fmtInt(DEMO_COUNT)} sample items into ${feed}\n`);
        await writeFeed(feed, { count: DEMO_COUNT, badRatio: 0.002, seed: 42 });
      }
      const runId = randomUUID();
      // The demo is for people, also through `| cat` or a CI log: readable lines, never JSON.
      const log = createLogger({ level: config.logLevel, runId, pretty: true });
      const progress = createProgress(!log.isLevelEnabled('info') ? 'none' : process.stderr.isTTY ? 'tty' : 'log', log);
      const s = await runPipeline({ input: feed, dbPath, config, runId, runType: 'demo', onProgress: (e) => progress.update(e) })
        .finally(() => progress.stop());
      process.stdout.write(`\ningested ${feed} into ${dbPath}\n`
        + `run ${s.runId}: ${s.status} in ${fmtDuration(s.workingMs)}, ${fmtInt(s.itemsPerSecond)} items/s with ${plural(s.workers, 'worker')}\n`
        + `  ${fmtInt(s.linesRead)} lines: ${fmtInt(s.inserted)} inserted, ${fmtInt(s.updated)} updated, ${fmtInt(s.unchanged)} unchanged, `
        + `${fmtInt(s.rejected)} rejected, ${fmtInt(s.blankLines)} blank\n\n`);
      // The run's report beside the sample feed: the page people open first.
      const reportPath = join(artifacts, 'demo-report.html');
      const { html } = await reportPage(target, s.runId);
      writeFileAtomic('demo-report.html', reportPath, html, { dbPath });
      process.stdout.write(`report: ${reportPath} (open it in a browser: file://${reportPath})\n\n`);
      using store = StateStore.open(dbPath, { readonly: true });
      const next = [
        commandLine(['rejects', '--db', dbPath, '--run', s.runId]),
        commandLine(['items', '--db', dbPath, '--run', s.runId, '--format', 'table']),
        commandLine(['report', '--db', dbPath, '--run', s.runId, '-o', 'run.html']),
        commandLine(['--help']),
      ];
      process.stdout.write(`${runsTable(store.listRuns({ limit: 5 }), (r) => isStale(r, store.path))}\n\nnext: ${next.join('\n      ')}\n`);
      process.exitCode = EXIT.OK;
    });
}
