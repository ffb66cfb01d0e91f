import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statField, statTicks, timed } from '../bench/lib/children';
import { tempDir } from './helpers/tmp';

describe('statField()', () => {
  // proc(5): pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17)
  const stat = '4242 (a) (b c) S 17 4242 4242 0 -1 4194304 1 2 3 4 250 30 7 9 20 0 1 0';

  it('numbers fields as proc(5) does, past a command name holding spaces and parentheses', () => {
    expect(statField(stat, 4)).toBe(17);
    expect(statField(stat, 14)).toBe(250);
  });

  it('statTicks() sums the fields it is given', () => {
    expect(statTicks(stat, 14, 15, 16, 17)).toBe(296);
  });
});

describe('timed()', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => { t = tempDir('bo-bench-children-'); });
  afterEach(() => t.cleanup());

  it('gives the child a file as its stdin', () => {
    const file = join(t.dir, 'in.txt');
    writeFileSync(file, 'one\ntwo\n');
    expect(timed('wc', ['-l'], { stdinFile: file }).stdout.trim()).toBe('2');
  });

  it('throws with the child\'s stderr when it exits non-zero', () => {
    expect(() => timed(process.execPath, ['-e', 'console.error("boom"); process.exit(3)'])).toThrow(/exited 3: boom/);
  });
});
