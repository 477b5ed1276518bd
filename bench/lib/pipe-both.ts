/**
 * Joins two duplex streams both ways, as the benchmark's floor pipes do: data flows with `pipe()`
 * and either side closing or failing destroys both.
 */
import type { Duplex } from 'node:stream';

export function pipeBoth(a: Duplex, b: Duplex): void {
  const close = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
  a.pipe(b);
  b.pipe(a);
}
