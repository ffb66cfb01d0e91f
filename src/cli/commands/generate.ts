import type { Command } from 'commander';
import { once } from 'node:events';
import { generateLines, writeFeed } from '../../gen/generate';
import { outputError } from '../fs-errors';
import { fractionArg, intArg } from '../shared';

interface GenerateOpts { count: number; badRatio: number; seed: number; lineBytes: number; output?: string }

export function registerGenerate(program: Command): void {
  program.command('generate')
    .description('Write realistic synthetic intel items as NDJSON (the generator the benchmarks use)')
    .requiredOption('--count <n>', 'number of lines', intArg('--count'))
    .option('--bad-ratio <r>', 'fraction of deliberately bad lines, 0 to 1', fractionArg('--bad-ratio'), 0)
    .option('--seed <s>', 'random seed (same seed, same feed)', intArg('--seed'), 1)
    .option('--line-bytes <n>', "pad each item's summary so a line is this many bytes (0: no padding)", intArg('--line-bytes'), 0)
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (opts: GenerateOpts) => {
      const feed = { count: opts.count, badRatio: opts.badRatio, seed: opts.seed, lineBytes: opts.lineBytes };
      if (opts.output !== undefined) {
        const output = opts.output;
        await writeFeed(output, feed).catch((err: unknown) => { throw outputError(output, err); });
        return;
      }
      for (const line of generateLines(feed)) {
        if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
      }
    });
}
