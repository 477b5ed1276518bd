/**
 * Smooth weighted round-robin (nginx's algorithm): every pick adds each candidate's weight to
 * its running score, takes the highest score and subtracts the total from it. Deterministic and
 * evenly interleaved: after any number of picks each share is within one pick of its weight, so
 * 1000/500 gives A B A A B A…, never runs of a thousand A's. Weight 0 is never chosen.
 */
export class SmoothWeightedChoice {
  readonly #weights: readonly number[];
  readonly #scores: number[];

  constructor(weights: readonly number[]) {
    this.#weights = weights.map((weight) => (Number.isFinite(weight) && weight > 0 ? weight : 0));
    this.#scores = weights.map(() => 0);
  }

  /** Index of the chosen candidate among those `eligible` accepts, or -1 when there is none. */
  pick(eligible: (index: number) => boolean): number {
    let total = 0;
    let best = -1;
    for (let i = 0; i < this.#weights.length; i++) {
      const weight = this.#weights[i] as number;
      if (weight === 0 || !eligible(i)) continue;
      const score = (this.#scores[i] as number) + weight;
      this.#scores[i] = score;
      total += weight;
      if (best === -1 || score > (this.#scores[best] as number)) best = i;
    }
    if (best !== -1) this.#scores[best] = (this.#scores[best] as number) - total;
    return best;
  }
}
