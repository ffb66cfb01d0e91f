/**
 * `npm run bench [-- --quick] [-- --filter <suite>]`: runs each suite in its
 * own process (plain node on the build output) and writes
 * bench/results/<suite>.json.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const SUITES = ['seed-claims', 'pipeline', 'parse', 'memory'] as const;

export function runSuites(quick: boolean, filter: string | undefined): string[] {
  const chosen = SUITES.filter((s) => filter === undefined || s.includes(filter));
  if (chosen.length === 0) throw new Error(`--filter ${filter} matches no suite; suites: ${SUITES.join(', ')}`);
  for (const suite of chosen) {
    console.log(`\n=== ${suite}${quick ? ' (quick)' : ''} ===`);
    execFileSync(process.execPath, [join(__dirname, `${suite}.bench.js`), ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
  }
  return chosen;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, filter: { type: 'string' } } });
  runSuites(values.quick === true, values.filter);
}
