/**
 * Command-line arguments of the bench scripts: `--help` prints the usage and
 * every option, a wrong option prints one line and the usage (exit 2), never
 * a stack trace.
 */
import { parseArgs } from 'node:util';

export interface BenchOption {
  type: 'string' | 'boolean';
  /** What the option does, for `--help`. */
  help: string;
  /** Placeholder of a string option's value in `--help`, e.g. `<n>`. */
  value?: string;
  short?: string;
}

export type BenchValues<O extends Record<string, BenchOption>> = {
  [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : string | undefined;
};

export interface BenchCommand<O extends Record<string, BenchOption>> {
  /** How it is run, e.g. `npm run bench -- [options]`. */
  usage: string;
  /** What it does, a few lines. */
  about: string;
  options: O;
}

const HELP: BenchOption = { type: 'boolean', short: 'h', help: 'print this help and exit' };

/** The usage text `--help` prints. */
export function helpText<O extends Record<string, BenchOption>>(cmd: BenchCommand<O>): string {
  const rows = Object.entries({ ...cmd.options, help: HELP }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? '<value>'}` : ''}`;
    return [flag, o.help] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [`Usage: ${cmd.usage}`, '', cmd.about, '', 'Options:', ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`)].join('\n');
}

/**
 * Parses `argv` (default: the process's arguments). On `--help`, prints the
 * help and exits 0; on an unknown or malformed option, prints what was wrong
 * and the usage on stderr and exits 2.
 */
export function benchArgs<O extends Record<string, BenchOption>>(cmd: BenchCommand<O>, argv = process.argv.slice(2)): BenchValues<O> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...cmd.options, help: HELP })) options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\nUsage: ${cmd.usage} (--help for every option)\n`);
    process.exit(2);
  }
  if (values.help === true) {
    process.stdout.write(`${helpText(cmd)}\n`);
    process.exit(0);
  }
  const out: Record<string, string | boolean | undefined> = {};
  for (const [name, o] of Object.entries(cmd.options)) out[name] = o.type === 'boolean' ? values[name] === true : values[name];
  return out as BenchValues<O>;
}

/** An integer option of at least `min`, or `fallback` when absent; exits 2 naming the option when malformed. */
export function intOption(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`--${name} expects an integer >= ${min}, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}
