/** SIGINT / SIGTERM for long-running commands (`agent`, `issuer`): the first stops gracefully. */
import type { Logger } from 'pino';
import { CliError, EXIT } from './errors.js';

/** Aborts on the first SIGINT / SIGTERM; a second one calls `onSecond` (exit without draining). */
export function stopSignal(onSecond: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) onSecond();
    else controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Runs a long-running command until it ends: the first stop signal aborts `run`'s signal (it
 * drains), a second exits at once. A failure is logged as fatal (`<name> failed`) and exits 2.
 */
export async function runUntilStopped(name: string, logger: Logger, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const { signal, dispose } = stopSignal(() => {
    logger.warn('second stop signal: exiting without draining');
    process.exit(EXIT.FAILURE);
  });
  try {
    await run(signal);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.fatal({ error: message }, `${name} failed`);
    logger.debug({ err }, `${name} failure detail`);
    throw new CliError(message, EXIT.FAILURE);
  } finally {
    dispose();
  }
}
