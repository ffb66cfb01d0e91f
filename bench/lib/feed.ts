/** The generated feed the peer benchmarks share, kept in bench/.data between runs. */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeFeed } from '../../src/gen/generate';
import { intOption } from './args';

/** Repeated ids in the peers feed: each repeat is an update that the last line must win. */
export const PEER_DUPLICATE_RATIO = 0.02;

/** The path of the `lines`-line peers feed of `seed` under `root`/bench/.data, generated on first use. */
export async function peerFeed(root: string, lines: number, seed: number): Promise<string> {
  const dataDir = join(root, 'bench/.data');
  mkdirSync(dataDir, { recursive: true });
  const feed = join(dataDir, `peers-${lines}-${seed}.ndjson`);
  if (!existsSync(feed)) {
    // Written aside and renamed, so an interrupted generation is never taken for the feed.
    await writeFeed(`${feed}.part`, { count: lines, duplicateRatio: PEER_DUPLICATE_RATIO, seed });
    renameSync(`${feed}.part`, feed);
  }
  return feed;
}

/** The feed and pairing options both peer benches take (`benchArgs` options). */
export const PEER_OPTIONS = {
  quick: { type: 'boolean', help: '20,000 lines (default 200,000), 3 pairs' },
  lines: { type: 'string', value: '<n>', help: 'lines of the generated feed (2% repeated ids)' },
  pairs: { type: 'string', value: '<n>', help: 'alternating pairs; medians are reported (default 3)' },
  seed: { type: 'string', value: '<n>', help: 'generator seed (default 7)' },
} as const;

/** Lines, pairs and seed from the parsed {@link PEER_OPTIONS}. */
export function peerSettings(args: { quick: boolean; lines?: string; pairs?: string; seed?: string }): { lines: number; pairs: number; seed: number } {
  return {
    lines: intOption('lines', args.lines, args.quick ? 20_000 : 200_000),
    pairs: intOption('pairs', args.pairs, 3),
    seed: intOption('seed', args.seed, 7),
  };
}
