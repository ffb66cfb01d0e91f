import type { Command } from 'commander';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { writeFeed } from '../../gen/generate';
import { runPipeline } from '../../pipeline';
import { StateStore } from '../../store';
import { createProgress } from '../progress';
import { fmtDuration, fmtInt } from '../format';
import { runsTable } from './runs';
import { EXIT } from '../exit-codes';

const DEMO_COUNT = 50_000;

export function registerDemo(program: Command): void {
  program.command('demo')
    .description(`The main job on the default database: generate a ${fmtInt(DEMO_COUNT)}-item sample feed (a few bad lines), ingest it, list runs`)
    .action(async () => {
      const config = loadConfig();
      mkdirSync(config.artifactsDir, { recursive: true });
      const feed = join(config.artifactsDir, 'demo-feed.ndjson');
      if (!existsSync(feed)) {
        process.stderr.write(`generating ${fmtInt(DEMO_COUNT)} sample items into ${feed}\n`);
        await writeFeed(feed, { count: DEMO_COUNT, badRatio: 0.002, seed: 42 });
      }
      const progress = createProgress(process.stderr.isTTY ? 'tty' : 'log', undefined);
      const s = await runPipeline({ input: feed, dbPath: config.dbPath, config, runType: 'demo', onProgress: (e) => progress.update(e) })
        .finally(() => progress.stop());
      process.stdout.write(`\ningested ${feed} into ${config.dbPath}\n`
        + `run ${s.runId}: ${s.status} in ${fmtDuration(s.durationMs)}, ${fmtInt(s.itemsPerSecond)} items/s with ${s.workers} workers\n`
        + `  ${fmtInt(s.linesRead)} lines: ${fmtInt(s.inserted)} inserted, ${fmtInt(s.updated)} updated, ${fmtInt(s.unchanged)} unchanged, `
        + `${fmtInt(s.rejected)} rejected, ${fmtInt(s.blankLines)} blank\n\n`);
      using store = StateStore.open(config.dbPath, { readonly: true });
      process.stdout.write(`${runsTable(store.listRuns({ limit: 5 }), store.path)}\n\n`
        + `next: npm run cli -- rejects --run ${s.runId}\n      npm run cli -- items --run ${s.runId} --format table\n      npm run cli -- --help\n`);
      process.exitCode = EXIT.OK;
    });
}
