#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { BrandOrchestratorError } from '../errors';
import { VERSION } from '../version';
import { registerDemo } from './commands/demo';
import { registerGenerate } from './commands/generate';
import { registerIngest } from './commands/ingest';
import { registerItems } from './commands/items';
import { registerRejects } from './commands/rejects';
import { registerRuns } from './commands/runs';
import { registerVerify } from './commands/verify';
import { CliError, EXIT } from './exit-codes';

/** Errors that mean "fix the invocation or the setup" (exit 2), not "the run failed". */
const SETUP_CODES = new Set(['ERR_INVALID_OPTION', 'ERR_INVALID_CONFIG', 'ERR_INPUT', 'ERR_OUTPUT', 'ERR_SCHEMA_TOO_NEW', 'ERR_DB', 'ERR_TEMP_DIR', 'ERR_RUN_EXISTS', 'ERR_RUN_ACTIVE', 'ERR_RUN_NOT_FOUND', 'ERR_STORE_CLOSED']);

export async function main(argv: string[]): Promise<number> {
  const program = new Command('brand-orchestrator')
    .description('Concurrent bulk ingestion of brand-intelligence intel items into SQLite')
    .version(VERSION)
    .option('--db <path>', 'database path (default: BRAND_ORCH_DB_PATH or ./data/brand_orchestrator.sqlite)')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  for (const register of [registerIngest, registerRuns, registerItems, registerRejects, registerVerify, registerGenerate, registerDemo]) {
    register(program);
  }
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are "errors" to commander; their text is already printed.
    return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (err instanceof CliError) {
    process.stderr.write(`brand-orchestrator: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof BrandOrchestratorError) {
    process.stderr.write(`brand-orchestrator: ${err.code}: ${err.message}\n`);
    return SETUP_CODES.has(err.code) ? EXIT.USAGE : EXIT.FAILED;
  }
  process.stderr.write(`brand-orchestrator: unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  return EXIT.FAILED;
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
