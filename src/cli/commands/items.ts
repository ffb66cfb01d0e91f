import { Option, type Command } from 'commander';
import { withReadStore } from '../../backend/open-read-store';
import type { IntelItem } from '../../store/types';
import { CliError, EXIT } from '../exit-codes';
import { jsonSafe, mapIterable, writeLines, writeTable, type Column } from '../format';
import { resolveTarget, type GlobalOpts } from '../shared';

/** On a narrow terminal ids, reasons and titles are cut with `…`, then the reason and type give way. */
const ITEM_COLUMNS: readonly Column[] = [
  { header: 'item_id', shrinkTo: 12 }, { header: 'type', dropOrder: 2 }, { header: 'score' }, { header: 'decision' },
  { header: 'reason', shrinkTo: 12, dropOrder: 1 }, { header: 'title', shrinkTo: 12 },
];

interface ExportOpts { run?: string; format: 'ndjson' | 'table' }

export function registerItems(program: Command): void {
  const items = program.command('items')
    .description("Stream a run's items as NDJSON in the input format (re-ingesting it counts all unchanged), or show one with `items get <item-id>`")
    .option('--run <run-id>', 'the run whose items to export: an id, `latest`, or a unique prefix of an id')
    .addOption(new Option('--format <format>', 'output format').choices(['ndjson', 'table']).default('ndjson'))
    .action(exportItems);
  items.command('get')
    .description('Print one item as one input line (snake_case), plus the run that stored it, its trend score and its last update, which ingest ignores: append it to a feed to re-ingest it')
    .argument('<item-id>')
    .action((itemId: string, _opts: unknown, cmd: Command) => withReadStore(resolveTarget(cmd.optsWithGlobals<GlobalOpts>()), async (store) => {
      const item = await store.getIntelItem(itemId);
      if (item === undefined) throw new CliError(`No item with id ${JSON.stringify(itemId)}`, EXIT.FAILED, 'ERR_ITEM_NOT_FOUND');
      const stored = { run_id: item.runId, trend_score: item.trendScore, updated_at: item.updatedAt };
      process.stdout.write(`${jsonSafe(JSON.stringify({ ...toInputLine(item), ...stored }))}\n`);
    }));
}

async function exportItems(opts: ExportOpts, cmd: Command): Promise<void> {
  const ref = opts.run;
  if (ref === undefined) throw new CliError("required option '--run <run-id>' not specified; see brand-orchestrator items --help", EXIT.USAGE, 'ERR_USAGE');
  await withReadStore(resolveTarget(cmd.optsWithGlobals<GlobalOpts>()), async (store) => {
    const runId = (await store.resolveRun(ref)).runId;
    if (opts.format === 'table') {
      await writeTable(process.stdout, ITEM_COLUMNS, () => mapIterable(
        store.iterateIntelItemsForRun(runId), (i) => [i.itemId, i.itemType, i.trendScore, i.decision, i.decisionReason, i.title],
      ));
      return;
    }
    await writeLines(process.stdout, mapIterable(store.iterateIntelItemsForRun(runId), (item) => jsonSafe(JSON.stringify(toInputLine(item)))));
  });
}

/**
 * A stored item as an input line that re-ingests to the same content: the
 * stored (already adjusted) scores with all signals off, so no modifier runs
 * twice, and the stored decision as an override, so the gates keep it.
 */
export function toInputLine(i: IntelItem): Record<string, unknown> {
  let scores: Record<string, number> | null = null;
  if (i.scores !== null) {
    const { impact, timeliness, virality, relevance, confidence } = i.scores;
    scores = { impact, timeliness, virality, relevance, confidence } as Record<string, number>;
  }
  return {
    item_id: i.itemId, item_type: i.itemType, title: i.title, summary: i.summary, claims: i.claims, evidence: i.evidence,
    ...(scores === null ? {} : { scores }), risk_flags: i.riskFlags, explainability: i.explainability,
    signals: { single_source_only: false, brigading_suspected: false, high_misinfo_risk: false },
    decision: i.decision, decision_reason: i.decisionReason, created_at: i.createdAt,
  };
}
