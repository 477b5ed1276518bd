/**
 * The one provider contract. A provider watches where the mesh's objects come from (a folder of
 * manifests, the Kubernetes API server) and hands its runner two things, nothing else: each new
 * `Snapshot` of the objects, and its health (`ProviderStatus`) whenever that changes. What the
 * runner does with them (compile, apply, log) is the runner's.
 */
import type { ProviderStatus } from '../model/provider-status.js';
import type { Snapshot } from '../model/snapshot.js';

/** Where a provider sends what it sees; both are called synchronously, in order. */
export interface ProviderOutput {
  /** The objects after a change (never for a rescan or resync that changed nothing). */
  readonly onSnapshot: (snapshot: Snapshot) => void;
  /** The provider's health, when it changes (reported before the snapshot it goes with). */
  readonly onStatus: (status: ProviderStatus) => void;
}

export interface Provider {
  /** Starts watching; rejects when the source cannot be used at all (the agent does not start). */
  start(): Promise<void>;
  /** Stops watching: nothing is reported after it resolves. */
  stop(): Promise<void>;
}
