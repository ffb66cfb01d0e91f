/** The generated feed the peer benchmarks share, kept in bench/.data between runs. */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeFeed } from '../../src/gen/generate';

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
