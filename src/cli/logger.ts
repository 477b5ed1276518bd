/**
 * The agent's logger, on stderr (stdout stays free for command output). Two formats:
 * `json` (pino's JSON lines, what log collectors read; the default when stderr is not a
 * terminal, as in a pod) and `pretty` (one readable line per entry; the default on a terminal).
 */
import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const STDERR = 2;

/** Pretty on a terminal, JSON anywhere else. */
export function defaultLogFormat(stderrIsTty: boolean = process.stderr.isTTY === true): LogFormat {
  return stderrIsTty ? 'pretty' : 'json';
}

/** The `--log-format` option of the long-running commands (`agent`, `issuer`). */
export function logFormatOption() {
  return {
    choices: LOG_FORMATS,
    default: defaultLogFormat(),
    defaultDescription: 'pretty when stderr is a terminal, else json',
    describe: 'pretty: one readable line per entry; json: JSON lines (pino), for log collectors',
  };
}

export function createLogger(level: LogLevel, format: LogFormat = defaultLogFormat()): Logger {
  // Synchronous writes: nothing is lost when the process exits right after a fatal error.
  const destination = format === 'json' ? pino.destination({ dest: STDERR, sync: true }) : prettyDestination(colorAllowed());
  return pino({ level, base: { pid: process.pid } }, destination);
}

function colorAllowed(): boolean {
  return process.stderr.isTTY === true && process.env.NO_COLOR === undefined;
}

function prettyDestination(color: boolean): DestinationStream {
  return { write: (line: string) => void writeSync(STDERR, prettyLine(line, color)) };
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLORS: Readonly<Record<number, string>> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields every line has, or that the line shows in its own place. */
const OMITTED = new Set(['level', 'time', 'pid', 'msg', 'hostname']);

/**
 * One pino JSON line as `HH:MM:SS.mmm LEVEL message key=value ...`; strings that need it, and
 * objects, are shown as JSON. A line that is not pino's JSON is passed through.
 */
export function prettyLine(json: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  const shownLevel = color ? `\x1b[${LEVEL_COLORS[level] ?? '0'}m${name}\x1b[0m` : name;
  const time = typeof entry.time === 'number' ? localTime(new Date(entry.time)) : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`);
  return `${[time, shownLevel, String(entry.msg ?? ''), ...fields].filter((part) => part !== '').join(' ')}\n`;
}

/** `HH:MM:SS.mmm` in the machine's time zone, as a terminal user reads a clock. */
function localTime(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}
