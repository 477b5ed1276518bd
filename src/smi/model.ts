/**
 * The internal SMI model: every served version of every SMI kind parses into these shapes.
 * Regular expressions are kept as validated source strings.
 */
import type { HttpMatch } from '../model/http-match.js';
import type { SourceLocation } from '../model/problem.js';

interface SmiObjectBase {
  readonly namespace: string;
  readonly name: string;
  /** `group/version` as written, e.g. `split.smi-spec.io/v1alpha1`. */
  readonly apiVersion: string;
  /** RFC 3339, '' when absent; decides which of two conflicting objects wins (oldest first). */
  readonly creationTimestamp: string;
  readonly source?: SourceLocation;
}

export interface TrafficSplit extends SmiObjectBase {
  readonly kind: 'TrafficSplit';
  /** The root Service (same namespace) that clients address. */
  readonly service: string;
  /** Weights are non-negative; v1alpha1 quantities are converted to milli-units (`1` = 1000). */
  readonly backends: readonly { readonly service: string; readonly weight: number }[];
  /** HTTPRouteGroup names (same namespace); empty = split every request. */
  readonly matches: readonly string[];
}

export interface HTTPRouteGroup extends SmiObjectBase {
  readonly kind: 'HTTPRouteGroup';
  readonly matches: readonly HttpMatch[];
}

export interface TCPRoute extends SmiObjectBase {
  readonly kind: 'TCPRoute';
  /** Empty = every port of the destination. */
  readonly ports: readonly number[];
}

export interface UDPRoute extends SmiObjectBase {
  readonly kind: 'UDPRoute';
  readonly ports: readonly number[];
}

export type TrafficTargetRuleKind = 'HTTPRouteGroup' | 'TCPRoute' | 'UDPRoute';

export interface TrafficTargetRule {
  readonly kind: TrafficTargetRuleKind;
  readonly name: string;
  /** HTTPRouteGroup match names; empty = every match of the group. */
  readonly matches: readonly string[];
}

export interface ServiceAccountRef {
  readonly name: string;
  /** Defaults to the TrafficTarget's namespace. */
  readonly namespace: string;
}

export interface TrafficTarget extends SmiObjectBase {
  readonly kind: 'TrafficTarget';
  readonly destination: ServiceAccountRef;
  /** v1alpha1/v1alpha2 `destination.port`, kept as a port filter; null = every port. */
  readonly destinationPort: number | null;
  /** Empty only for v1alpha1/v1alpha2 objects without specs/rules: grants every request. */
  readonly rules: readonly TrafficTargetRule[];
  readonly sources: readonly ServiceAccountRef[];
}

export type SmiObject = TrafficSplit | HTTPRouteGroup | TCPRoute | UDPRoute | TrafficTarget;
