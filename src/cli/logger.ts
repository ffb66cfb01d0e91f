import { hostname } from 'node:os';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import type { LogLevel } from '../config';
import { escapeControl } from './format';

export type { Logger };

const PINO_LEVELS: Readonly<Record<LogLevel, Level>> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error', CRITICAL: 'fatal' };

export interface LoggerOptions {
  /** `BRAND_ORCH_LOG_LEVEL`, as `loadConfig` resolved it. */
  level: LogLevel;
  /** Bound to every line (`runId`), so one night's lines can be picked out of a shared log. */
  runId: string;
  /** Readable lines (a terminal) instead of JSON lines (cron, systemd, a file). */
  pretty: boolean;
  /** @defaultValue stderr */
  stream?: NodeJS.WritableStream;
}

/**
 * The CLI's logger, on stderr (stdout stays for `--json` and exports). Not a
 * terminal: one JSON object a line, `{"level":"info","time":"<ISO-8601>",
 * "pid":..,"hostname":..,"runId":..,"msg":..}` plus fields, for a log shipper
 * or `jq`. A terminal: `HH:MM:SS LEVEL [run-id] message`, control
 * characters escaped. Writes are synchronous, so nothing is lost at exit.
 */
export function createLogger(o: LoggerOptions): Logger {
  const out = o.stream ?? process.stderr;
  const destination: DestinationStream = o.pretty
    ? { write: (line: string) => { out.write(prettyLine(line)); } }
    : o.stream === undefined ? pino.destination({ fd: 2, sync: true }) : { write: (line: string) => { out.write(line); } };
  return pino({
    level: PINO_LEVELS[o.level],
    base: { pid: process.pid, hostname: hostname(), runId: o.runId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, destination);
}

/** Effective level: at least `floor` (`--quiet` and `--json` keep only warnings and errors). */
export function atLeast(level: LogLevel, floor: LogLevel): LogLevel {
  const order: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
  return order.indexOf(level) >= order.indexOf(floor) ? level : floor;
}

function prettyLine(json: string): string {
  const r = JSON.parse(json) as { level?: string; time?: string; runId?: string; msg?: string };
  const time = typeof r.time === 'string' ? new Date(r.time).toTimeString().slice(0, 8) : '--:--:--';
  const level = (r.level ?? '').toUpperCase().padEnd(5);
  return `${time} ${level} [${escapeControl(r.runId ?? '-')}] ${escapeControl(r.msg ?? '')}\n`;
}
