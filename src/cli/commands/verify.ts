import type { Command } from 'commander';
import type { StateStore } from '../../store';
import { EXIT } from '../exit-codes';
import { openExisting, writeJson, type GlobalOpts } from '../shared';

export function registerVerify(program: Command): void {
  program.command('verify')
    .description('Check integrity, foreign keys and that every run\'s counts reconcile; exit 1 if anything is off')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      using store = openExisting(cmd.optsWithGlobals<GlobalOpts>());
      const problems = verifyStore(store);
      if (opts.json) writeJson({ ok: problems.length === 0, problems });
      else process.stdout.write(problems.length === 0 ? 'ok: integrity, foreign keys and run counts all check out\n' : `${problems.map((p) => `problem: ${p}`).join('\n')}\n`);
      process.exitCode = problems.length === 0 ? EXIT.OK : EXIT.FAILED;
    });
}

/** Every problem found; empty when the database is healthy. */
export function verifyStore(store: StateStore): string[] {
  const problems = store.checkIntegrity();
  for (const run of store.listRuns({ limit: Number.MAX_SAFE_INTEGER })) {
    const sum = run.blankLines + run.inserted + run.updated + run.unchanged + run.rejected;
    if (sum !== run.linesRead) {
      problems.push(`run ${run.runId}: lines_read ${run.linesRead} != blank + inserted + updated + unchanged + rejected (${sum})`);
    }
    if (run.status === 'running') continue;
    const t = store.chunkTotals(run.runId);
    for (const k of ['linesRead', 'blankLines', 'inserted', 'updated', 'unchanged', 'rejected', 'chunks'] as const) {
      if (t[k] !== run[k]) problems.push(`run ${run.runId}: ${k} is ${run[k]} on the run but ${t[k]} over its committed chunks`);
    }
  }
  return problems;
}
