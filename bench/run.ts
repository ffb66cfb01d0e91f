/**
 * `npm run bench [-- --quick] [-- --filter <suite>]`: runs each suite in its
 * own process (plain node on the build output); see `--help`.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { benchArgs } from './lib/args';
import { ACTION_FILES, resetActionFiles, resultsDir } from './lib/results';

export const SUITES = ['seed-claims', 'pipeline', 'parse', 'memory'] as const;

/**
 * Runs the chosen suites one after another, starting the two CI files
 * afresh. Their output goes to stdout, or to stderr when `toStderr` (so
 * `bench:check --json` prints only its verdict on stdout).
 */
export function runSuites(quick: boolean, filter: string | undefined, toStderr = false): string[] {
  const chosen = SUITES.filter((s) => filter === undefined || s.includes(filter));
  if (chosen.length === 0) throw new Error(`--filter ${filter} matches no suite; suites: ${SUITES.join(', ')}`);
  resetActionFiles();
  const out = toStderr ? process.stderr : process.stdout;
  for (const suite of chosen) {
    out.write(`\n=== ${suite}${quick ? ' (quick)' : ''} ===\n`);
    execFileSync(process.execPath, [join(__dirname, `${suite}.bench.js`), ...(quick ? ['--quick'] : [])], { stdio: ['ignore', toStderr ? 2 : 1, 2] });
  }
  return chosen;
}

export const RUN_HELP = {
  usage: 'npm run bench -- [--quick] [--filter <suite>]',
  about: [
    `Runs the benchmark suites (${SUITES.join(', ')}), each in its own process, on the build output.`,
    `Each writes bench/results/<suite>.json and <suite>.machine.json; together they write`,
    `bench/results/${ACTION_FILES.bigger} (github-action-benchmark tool customBiggerIsBetter)`,
    `and bench/results/${ACTION_FILES.smaller} (customSmallerIsBetter). Details: docs/performance.md.`,
  ].join('\n'),
  options: {
    quick: { type: 'boolean', help: 'small sizes, at least 3 iterations each (what CI runs)' },
    filter: { type: 'string', value: '<suite>', help: `only the suites whose name contains this (${SUITES.join(', ')})` },
  },
} as const;

if (require.main === module) {
  const args = benchArgs(RUN_HELP);
  try {
    runSuites(args.quick, args.filter);
    console.log(`\nresults in ${resultsDir()}`);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
