/**
 * Gateway API RequestMirror on the data plane: which requests a mirror copies. Exactly
 * `numerator` of every `denominator` requests, spread evenly by a running credit (no random
 * draw, so a 20% mirror copies 20% of any run of requests, not 20% on average).
 */
import type { BackendRuntime, MirrorTarget } from './types.js';

export class MirrorShare implements MirrorTarget {
  #credit = 0;

  constructor(readonly backend: BackendRuntime, readonly numerator: number, readonly denominator: number) {}

  take(): boolean {
    this.#credit += this.numerator;
    if (this.#credit < this.denominator) return false;
    this.#credit -= this.denominator;
    return true;
  }
}
