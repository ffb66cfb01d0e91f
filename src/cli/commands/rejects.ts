import type { Command } from 'commander';
import { once } from 'node:events';
import { table } from '../format';
import { openExisting, type GlobalOpts } from '../shared';

export function registerRejects(program: Command): void {
  program.command('rejects')
    .description("List a run's rejected lines (line, code, reason)")
    .requiredOption('--run <run-id>', 'the run')
    .option('--json', 'NDJSON, one reject per line, with its excerpt')
    .action(async (opts: { run: string; json?: boolean }, cmd: Command) => {
      using store = openExisting(cmd.optsWithGlobals<GlobalOpts>());
      store.getRun(opts.run);
      if (!opts.json) {
        const rows = [...store.iterateRejects(opts.run)].map((r) => [r.lineNo, r.code, r.reason]);
        process.stdout.write(`${table(['line', 'code', 'reason'], rows)}\n`);
        return;
      }
      for (const r of store.iterateRejects(opts.run)) {
        const line = JSON.stringify({ line_no: r.lineNo, code: r.code, reason: r.reason, excerpt: r.excerpt });
        if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
      }
    });
}
