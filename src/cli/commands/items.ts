import type { Command } from 'commander';
import { once } from 'node:events';
import type { IntelItem } from '../../store/types';
import { CliError, EXIT } from '../exit-codes';
import { table } from '../format';
import { openExisting, writeJson, type GlobalOpts } from '../shared';

export function registerItems(program: Command): void {
  const items = program.command('items').description("Export a run's items, or show one item");
  items.command('export', { isDefault: true })
    .description("Stream a run's items as NDJSON in the input format (re-ingesting it counts all unchanged)")
    .requiredOption('--run <run-id>', 'the run whose items to export')
    .option('--format <format>', 'ndjson or table', 'ndjson')
    .action(async (opts: { run: string; format: string }, cmd: Command) => {
      if (opts.format !== 'ndjson' && opts.format !== 'table') throw new CliError(`--format must be ndjson or table, got ${JSON.stringify(opts.format)}`);
      using store = openExisting(cmd.optsWithGlobals<GlobalOpts>());
      store.getRun(opts.run); // unknown run -> clear error
      if (opts.format === 'table') {
        const rows = [...store.iterateIntelItemsForRun(opts.run)].map((i) => [i.itemId, i.itemType, i.trendScore, i.decision, i.decisionReason, i.title.slice(0, 50)]);
        process.stdout.write(`${table(['item_id', 'type', 'score', 'decision', 'reason', 'title'], rows)}\n`);
        return;
      }
      for (const item of store.iterateIntelItemsForRun(opts.run)) {
        if (!process.stdout.write(`${JSON.stringify(toInputLine(item))}\n`)) await once(process.stdout, 'drain');
      }
    });
  items.command('get')
    .description('Show one item as JSON')
    .argument('<item-id>')
    .action((itemId: string, _opts: unknown, cmd: Command) => {
      using store = openExisting(cmd.optsWithGlobals<GlobalOpts>());
      const item = store.getIntelItem(itemId);
      if (item === undefined) throw new CliError(`No item with id ${JSON.stringify(itemId)}`, EXIT.FAILED);
      writeJson(item);
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
