/** A provider's health, as it reports it beside its snapshots (shown on the agent's admin port). */
import type { Problem } from './problem.js';

export interface ProviderStatus {
  readonly healthy: boolean;
  readonly message: string;
  /** Input the provider could not read (a file that does not parse): counted and listed like config problems. */
  readonly problems?: readonly Problem[];
}
