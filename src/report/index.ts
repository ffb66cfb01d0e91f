import { loadConfig } from '../config';
import { InvalidOptionError } from '../errors';
import { dbTarget } from '../pipeline/options';
import { withReadStore } from '../backend/open-read-store';
import type { ReadStore } from '../store/read-store';
import { VERSION } from '../version';
import { renderHtml } from './html';
import { collectReport, type CollectOptions, type RunReportData } from './model';

export type { RunReportData } from './model';

/** What {@link renderRunReport} takes. */
export interface RunReportOptions {
  /** The SQLite file. Give this or `db`. */
  dbPath?: string;
  /** A SQLite path, a `file:` URL or a `postgres://` URL (as `runPipeline`'s `db`). */
  db?: string;
  /** The run: an id, `latest`, or a unique prefix of an id. @defaultValue `'latest'` */
  run?: string;
  /** Runs of the database in the trend charts. @defaultValue 14 */
  recentRuns?: number;
}

/**
 * The report of one run as a self-contained HTML page (scripts, styles and
 * data inline; it loads nothing from the network): its figures, throughput
 * over time, where the time went per worker, its rejects, its items'
 * decisions and scores, and the database's last runs. Works on SQLite and
 * PostgreSQL; opens the database read-only, and aggregates there, so the
 * page stays small (about 0.3 MB for a run of a million lines).
 *
 * @example
 * const html = await renderRunReport({ dbPath: './data/intel.sqlite', run: 'latest' });
 * writeFileSync('run.html', html);
 */
export async function renderRunReport(options: RunReportOptions): Promise<string> {
  const target = dbTarget(options, loadConfig());
  return withReadStore(target, (store) => renderReportFrom(store, options.run ?? 'latest', { recentRuns: options.recentRuns }));
}

/** The page for run `ref` of an open store; `command`: the words that start the CLI, in the resume command. @internal */
export async function renderReportFrom(store: ReadStore, ref: string, o: Omit<CollectOptions, 'version'> = {}): Promise<string> {
  return renderHtml(await collectReportFrom(store, ref, o));
}

/** The data the page embeds and shows (for tests and other renderings). @internal */
export function collectReportFrom(store: ReadStore, ref: string, o: Omit<CollectOptions, 'version'> = {}): Promise<RunReportData> {
  if (o.recentRuns !== undefined && (!Number.isInteger(o.recentRuns) || o.recentRuns < 1)) {
    throw new InvalidOptionError(`Expected \`recentRuns\` to be a positive integer, got ${String(o.recentRuns)}`);
  }
  return collectReport(store, ref, { ...o, version: VERSION });
}
