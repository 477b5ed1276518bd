/** SIGINT / SIGTERM for long-running commands (`agent`, `issuer`): the first stops gracefully. */

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
