import type { Command } from 'commander';
import { once } from 'node:events';
import { generateLines, writeFeed } from '../../gen/generate';
import { CliError } from '../exit-codes';
import { outputError } from '../fs-errors';
import { intArg } from '../shared';

interface GenerateOpts { count: number; badRatio: string; seed: number; output?: string }

export function registerGenerate(program: Command): void {
  program.command('generate')
    .description('Write realistic synthetic intel items as NDJSON (the generator the benchmarks use)')
    .requiredOption('--count <n>', 'number of lines', intArg('--count'))
    .option('--bad-ratio <r>', 'fraction of deliberately bad lines, 0 to 1', '0')
    .option('--seed <s>', 'random seed (same seed, same feed)', intArg('--seed'), 1)
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (opts: GenerateOpts) => {
      const badRatio = Number(opts.badRatio);
      if (!Number.isFinite(badRatio) || badRatio < 0 || badRatio > 1) throw new CliError(`--bad-ratio expects a number from 0 to 1, got ${JSON.stringify(opts.badRatio)}`);
      if (opts.output !== undefined) {
        const output = opts.output;
        await writeFeed(output, { count: opts.count, badRatio, seed: opts.seed }).catch((err: unknown) => { throw outputError(output, err); });
        return;
      }
      for (const line of generateLines({ count: opts.count, badRatio, seed: opts.seed })) {
        if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
      }
    });
}
