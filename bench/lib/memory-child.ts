/** Child of the memory benchmark: ingests one feed, prints its peak RSS and wall time. */
import { runPipeline } from '../../src/backend';

async function main(): Promise<void> {
  const [feed, db] = process.argv.slice(2) as [string, string];
  const s = await runPipeline({ input: feed, dbPath: db, workers: 2 });
  // maxRSS is in KiB on Linux and covers every thread of the process.
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify({ maxRssMb, linesRead: s.linesRead, seconds: Math.round(s.durationMs / 100) / 10 }));
}

void main();
