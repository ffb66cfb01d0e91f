import { hostname } from 'node:os';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogLevel } from '../config';
import { escapeControl } from './format';
import { snakeKeys } from './json-out';

export type { Logger };

const PINO_LEVELS: Readonly<Record<LogLevel, Level>> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error', CRITICAL: 'fatal' };

export interface LoggerOptions {
  /** `BRAND_ORCH_LOG_LEVEL`, as `loadConfig` resolved it. */
  level: LogLevel;
  /** Bound to every line (`run_id`), so one night's lines can be picked out of a shared log. */
  runId: string;
  /** Readable lines (a terminal) instead of JSON lines (cron, systemd, a file). */
  pretty: boolean;
  /** @defaultValue stderr */
  stream?: NodeJS.WritableStream;
}

/**
 * The CLI's logger, on stderr (stdout stays for `--json` and exports). Not a
 * terminal: one JSON object a line, `{"level":"info","time":"<ISO-8601>",
 * "pid":..,"hostname":..,"run_id":..,"msg":..}` plus fields (snake_case), for a log shipper
 * or `jq`. For people (a terminal, the demo): pino-pretty's
 * `[HH:MM:ss] LEVEL: [run-id] message`, control characters escaped, the
 * fields left to the JSON form. Writes are synchronous, so nothing is lost at
 * exit.
 */
export function createLogger(o: LoggerOptions): Logger {
  const out = o.stream ?? process.stderr;
  const destination: DestinationStream = o.pretty
    ? prettyDestination(out)
    : o.stream === undefined ? pino.destination({ fd: 2, sync: true }) : { write: (line: string) => { out.write(line); } };
  return pino({
    level: PINO_LEVELS[o.level],
    base: { pid: process.pid, hostname: hostname(), run_id: o.runId },
    timestamp: pino.stdTimeFunctions.isoTime,
    // The fields (`summary`, `progress`) named as in every JSON the CLI prints.
    formatters: { level: (label) => ({ level: label }), log: (fields) => snakeKeys(fields) as Record<string, unknown> },
  }, destination);
}

/** Effective level: at least `floor` (`--quiet` and `--json` keep only warnings and errors). */
export function atLeast(level: LogLevel, floor: LogLevel): LogLevel {
  const order: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
  return order.indexOf(level) >= order.indexOf(floor) ? level : floor;
}

function prettyDestination(out: NodeJS.WritableStream): DestinationStream {
  const pretty = prettyFactory({
    colorize: 'isTTY' in out && out.isTTY === true && process.env.NO_COLOR === undefined,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,run_id',
    hideObject: true,
    // The message and run id may hold feed text: escaped, as everything this CLI prints.
    messageFormat: (log, key) => `[${escapeControl(String(log.run_id ?? '-'))}] ${escapeControl(String(log[key] ?? ''))}`,
  });
  return { write: (line: string) => { out.write(pretty(line)); } };
}
