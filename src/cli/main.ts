#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { BrandOrchestratorError } from '../errors';
import { fromSqliteError } from '../sqlite/errors';
import { VERSION } from '../version';
import { registerDemo } from './commands/demo';
import { registerGenerate } from './commands/generate';
import { registerIngest } from './commands/ingest';
import { registerItems } from './commands/items';
import { registerRejects } from './commands/rejects';
import { registerReport } from './commands/report';
import { registerRuns } from './commands/runs';
import { registerVerify } from './commands/verify';
import { CliError, EXIT } from './exit-codes';
import { escapeControl } from './format';
import { DB_HELP } from './shared';

/** Errors that mean "fix the invocation or the setup" (exit 2), not "the run failed". */
const SETUP_CODES = new Set([
  'ERR_INVALID_OPTION', 'ERR_INVALID_CONFIG', 'ERR_INPUT', 'ERR_OUTPUT', 'ERR_SCHEMA_TOO_NEW', 'ERR_DB', 'ERR_TEMP_DIR', 'ERR_RUN_EXISTS',
  'ERR_RUN_ACTIVE', 'ERR_RUN_NOT_FOUND', 'ERR_RUN_AMBIGUOUS', 'ERR_STORE_CLOSED',
  'ERR_DB_UNREACHABLE', 'ERR_DB_AUTH', 'ERR_DB_MISSING',
]);

export async function main(argv: string[]): Promise<number> {
  let command = 'brand-orchestrator';
  const program = new Command('brand-orchestrator')
    .description('Concurrent bulk ingestion of brand-intelligence intel items into SQLite or PostgreSQL')
    .version(VERSION)
    .option('--db <path|url>', DB_HELP)
    .exitOverride()
    .hook('preAction', (_program, action) => { command = action.name(); });
  for (const register of [registerIngest, registerRuns, registerItems, registerRejects, registerReport, registerVerify, registerGenerate, registerDemo]) {
    register(program);
  }
  addHelpTexts(program);
  // Commander's own messages are printed by reportError, in the one error format.
  for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    cmd.exitOverride().configureOutput({ outputError: () => undefined });
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    // A usage error comes before the action's hook: name the command from the arguments.
    if (command === 'brand-orchestrator') command = program.commands.find((c) => argv.slice(2).includes(c.name()))?.name() ?? command;
    return reportError(err, command, wantsJson(argv));
  }
}

/** Examples shown under each command's `--help`. */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  ingest: [
    'brand-orchestrator ingest feed.ndjson.gz --db /var/lib/bo/bo.sqlite --summary-file last-run.json',
    'brand-orchestrator ingest feed.ndjson --db postgres://etl@db.internal/brand --run-id nightly-1 --join',
  ],
  runs: ['brand-orchestrator runs --db bo.sqlite', 'brand-orchestrator runs show latest --db bo.sqlite'],
  items: ['brand-orchestrator items --run latest --db bo.sqlite > items.ndjson', 'brand-orchestrator items get item-42 --db bo.sqlite'],
  rejects: ['brand-orchestrator rejects --run latest --summary --db bo.sqlite'],
  report: ['brand-orchestrator report --run latest --db bo.sqlite -o run.html', 'brand-orchestrator report --db postgres://etl@db.internal/brand > run.html'],
  verify: ['brand-orchestrator verify --db bo.sqlite || echo "last night needs a look"'],
  demo: ['brand-orchestrator demo'],
};

const ENVIRONMENT = `Environment:
  BRAND_ORCH_DB_URL, BRAND_ORCH_DB_PATH  the database when --db is not given (the URL first)
  BRAND_ORCH_LOG_LEVEL                   DEBUG, INFO (default), WARNING, ERROR or CRITICAL
  PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, ~/.pgpass
                                         what a postgres:// URL leaves out, as for psql`;

/** Every command that opens a database shows `--db`, the environment it reads and an example or two under `--help`. */
function addHelpTexts(program: Command): void {
  program.addHelpText('after', `\n${ENVIRONMENT}`);
  for (const cmd of program.commands) {
    if (cmd.name() === 'generate') continue;
    if (!cmd.options.some((o) => o.long === '--db')) cmd.option('--db <path|url>', DB_HELP);
    const examples = EXAMPLES[cmd.name()] ?? [];
    cmd.addHelpText('after', `\n${ENVIRONMENT}${examples.length > 0 ? `\n\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}` : ''}`);
  }
}

/** `--json` anywhere before a `--`: errors are then also printed as JSON on stdout. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** One line on stderr (and `{"error": {code, message}}` on stdout under `--json`); returns the exit code. */
function reportError(err: unknown, command: string, json: boolean): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; their text is already printed.
    if (err.exitCode === 0) return EXIT.OK;
    printError('ERR_USAGE', usageMessage(err.message, command), json);
    return EXIT.USAGE;
  }
  if (err instanceof CliError) {
    printError(err.code, err.message, json);
    return err.exitCode;
  }
  // A SQLite error from a query (not from opening, which the store maps) gets our code and one line.
  const e = err instanceof BrandOrchestratorError ? err : isSqliteError(err) ? fromSqliteError(err, `${command} failed`) : undefined;
  if (e !== undefined) {
    printError(e.code, e.code === 'ERR_DB_CORRUPT' && command !== 'verify' ? `${e.message}; \`verify\` reports what is damaged` : e.message, json);
    return SETUP_CODES.has(e.code) ? EXIT.USAGE : EXIT.FAILED;
  }
  // A bug: its stack, line by line, follows the one-line message.
  const message = `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
  printError('ERR_INTERNAL', message, json);
  const frames = err instanceof Error ? (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)) : [];
  if (frames.length > 0) process.stderr.write(`${frames.map(escapeControl).join('\n')}\n`);
  return EXIT.FAILED;
}

/**
 * Commander's message as one line: `error: ` dropped, its "Did you mean"
 * kept, and where to read the usage.
 * @example usageMessage("error: unknown option '--wrkers'\n(Did you mean --workers?)", 'ingest')
 * // "unknown option '--wrkers' (did you mean --workers?); see brand-orchestrator ingest --help"
 */
function usageMessage(raw: string, command: string): string {
  const [first = '', ...rest] = raw.replace(/^error: /, '').split('\n');
  const guess = /\(Did you mean (.+)\?\)/.exec(rest.join(' '));
  const help = command === 'brand-orchestrator' ? 'brand-orchestrator --help' : `brand-orchestrator ${command} --help`;
  return `${first}${guess ? ` (did you mean ${guess[1]}?)` : ''}; see ${help}`;
}

/** Text from the input or the database may be part of a message: escaped, it stays one line. */
function printError(code: string, message: string, json: boolean): void {
  process.stderr.write(`brand-orchestrator: ${code}: ${escapeControl(message)}\n`);
  if (json) writeJsonError(code, message);
}

function writeJsonError(code: string, message: string): void {
  process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
}

function isSqliteError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

if (require.main === module) {
  // `brand-orchestrator items --run r | head`: the reader left; stop quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK);
    throw err;
  });
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
