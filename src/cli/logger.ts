/** The agent's logger: JSON lines on stderr (stdout stays free for command output). */
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel): Logger {
  // Synchronous writes: nothing is lost when the process exits right after a fatal error.
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}
