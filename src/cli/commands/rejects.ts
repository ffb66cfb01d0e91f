import type { Command } from 'commander';
import { withReadStore } from '../../backend/open-read-store';
import type { ReadStore } from '../../store/read-store';
import { escapeControl, fmtInt, mapIterable, plural, writeLines, writeTable } from '../format';
import { intArg, resolveTarget, writeJson, type GlobalOpts } from '../shared';

interface RejectsOpts { run: string; json?: boolean; summary?: boolean; examples: number }

export function registerRejects(program: Command): void {
  program.command('rejects')
    .description("List a run's rejected lines (line, code, reason), or count them per code with --summary")
    .requiredOption('--run <run-id>', 'the run: an id, `latest`, or a unique prefix of an id')
    .option('--summary', 'counts per code, with the first few lines of each')
    .option('--examples <n>', 'lines shown per code with --summary', intArg('--examples'), 3)
    .option('--json', 'NDJSON, one reject per line, with its excerpt (with --summary: one JSON object)')
    .action((opts: RejectsOpts, cmd: Command) => withReadStore(resolveTarget(cmd.optsWithGlobals<GlobalOpts>()), async (store) => {
      const runId = (await store.resolveRun(opts.run)).runId;
      if (opts.summary) return printSummary(store, runId, opts);
      if (opts.json) {
        await writeLines(process.stdout, mapIterable(store.iterateRejects(runId),
          (r) => JSON.stringify({ line_no: r.lineNo, code: r.code, reason: r.reason, excerpt: r.excerpt })));
        return;
      }
      await writeTable(process.stdout, ['line', 'code', { header: 'reason', shrinkTo: 20 }], () => mapIterable(store.iterateRejects(runId), (r) => [r.lineNo, r.code, r.reason]));
    }));
}

async function printSummary(store: ReadStore, runId: string, opts: RejectsOpts): Promise<void> {
  const codes = [];
  for (const { code, count } of await store.rejectCounts(runId)) {
    codes.push({ code, count, examples: await store.rejectExamples(runId, code, opts.examples) });
  }
  const rejected = codes.reduce((n, c) => n + c.count, 0);
  if (opts.json) {
    writeJson({
      runId, rejected,
      codes: codes.map((c) => ({ ...c, examples: c.examples.map((r) => ({ line_no: r.lineNo, reason: r.reason, excerpt: r.excerpt })) })),
    });
    return;
  }
  const width = Math.max(0, ...codes.map((c) => c.code.length));
  const lines = [`run ${escapeControl(runId)}: ${plural(rejected, 'rejected line')}`];
  for (const c of codes) {
    lines.push(`${escapeControl(c.code).padEnd(width)}  ${fmtInt(c.count)}`);
    for (const r of c.examples) lines.push(`  line ${r.lineNo}: ${escapeControl(r.reason)}\n    ${escapeControl(r.excerpt)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
