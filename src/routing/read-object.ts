/**
 * Dispatches one raw object to its reader by kind and apiVersion, and says what Plexus does with
 * every object it is given, so none is dropped without a word:
 *
 * - **read**: the kinds the compiler uses (Service, Endpoints, Pod, Namespace in v1;
 *   EndpointSlice in discovery.k8s.io; SMI objects, whose reader reports unknown kinds and
 *   versions of the SMI groups itself);
 * - **a problem**: an object in an API group Plexus reads that is not a kind or version of it
 *   (`kind: Servce`, `apiVersion: v9`): almost always a typo that would drop a Service;
 * - **ignored on purpose**: every other kind (Deployments, ConfigMaps, a Knative `Service`, …),
 *   listed by `plexus config` and logged by the agent (see ignoredObjects in ./ignored.ts).
 */
import { isSmiApiVersion, parseSmiObject } from '../smi/parse.js';
import type { SmiObject } from '../smi/model.js';
import { readEndpoints, readEndpointSlice } from './kube/endpoints.js';
import { readNamespace } from './kube/namespace.js';
import { readPod } from './kube/pod.js';
import { readService } from './kube/service.js';
import type { KubeObject, ReadResult } from './kube/types.js';
import { problem, type Problem, type SourceLocation } from '../model/problem.js';
import type { RawObject } from '../model/snapshot.js';
import { readIdentity, UNNAMED } from './raw.js';
import { closestName } from './suggest.js';
import { parseGatewayObject } from '../gateway/parse.js';
import type { GatewayRoute } from '../gateway/model.js';
import { GATEWAY_RESOURCES, isGatewayApiVersion } from '../gateway/resources.js';

export type ReadObject = KubeObject | SmiObject | GatewayRoute;

type Reader = (raw: RawObject, source?: SourceLocation) => ReadResult<ReadObject>;

/** What Plexus does with an object: read it, ignore it on purpose, or report it as `problem`. */
export type ObjectUse =
  | { readonly use: 'read'; readonly reader: Reader }
  | { readonly use: 'ignored' }
  | { readonly use: 'problem'; readonly message: string };

const CORE_READERS: Readonly<Record<string, Reader>> = {
  Service: readService,
  Endpoints: readEndpoints,
  Pod: readPod,
  Namespace: readNamespace,
};

/** The other kinds of the core group (v1): real objects that Plexus has no use for. */
const CORE_IGNORED: ReadonlySet<string> = new Set([
  'Binding', 'ComponentStatus', 'ConfigMap', 'Event', 'LimitRange', 'Node', 'PersistentVolume',
  'PersistentVolumeClaim', 'PodTemplate', 'ReplicationController', 'ResourceQuota', 'Secret', 'ServiceAccount',
]);

const DISCOVERY_GROUP = 'discovery.k8s.io';
const ENDPOINT_SLICE_VERSIONS: readonly string[] = ['v1', 'v1beta1'];

const READ: ObjectUse = { use: 'read', reader: (raw, source) => readSmi(raw, source) };
/** HTTPRoute and GRPCRoute; the other Gateway API kinds (Gateways, ReferenceGrants, …) are not a mesh's. */
const READ_GATEWAY: ObjectUse = { use: 'read', reader: (raw, source) => readGateway(raw, source) };
const IGNORED: ObjectUse = { use: 'ignored' };

export function objectUse(raw: RawObject): ObjectUse {
  const { kind, apiVersion } = raw;
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') return IGNORED;
  if (!apiVersion.includes('/')) return coreUse(kind, apiVersion);
  if (isSmiApiVersion(apiVersion)) return READ;
  if (isGatewayApiVersion(apiVersion)) return GATEWAY_RESOURCES.some((r) => r.kind === kind) ? READ_GATEWAY : IGNORED;
  const slash = apiVersion.lastIndexOf('/');
  if (apiVersion.slice(0, slash) === DISCOVERY_GROUP) return discoveryUse(kind, apiVersion.slice(slash + 1));
  return IGNORED;
}

function coreUse(kind: string, version: string): ObjectUse {
  if (version !== 'v1') {
    return { use: 'problem', message: `apiVersion "${version}" does not exist: the core API group (Service, Pod, …) has only "v1"` };
  }
  const reader = CORE_READERS[kind];
  if (reader !== undefined) return { use: 'read', reader };
  if (CORE_IGNORED.has(kind)) return IGNORED;
  const known = [...Object.keys(CORE_READERS), ...CORE_IGNORED];
  const guess = closestName(kind, known);
  return { use: 'problem', message: `kind "${kind}" is not a kind of apiVersion v1${guess === undefined ? '' : ` (did you mean ${guess}?)`}; the object is not used` };
}

function discoveryUse(kind: string, version: string): ObjectUse {
  if (kind !== 'EndpointSlice') {
    return { use: 'problem', message: `kind "${kind}" is not a kind of ${DISCOVERY_GROUP} (it has EndpointSlice); the object is not used` };
  }
  if (!ENDPOINT_SLICE_VERSIONS.includes(version)) {
    return { use: 'problem', message: `unknown version "${version}" of ${DISCOVERY_GROUP} (served: ${ENDPOINT_SLICE_VERSIONS.join(', ')}); the object is not used` };
  }
  return { use: 'read', reader: readEndpointSlice };
}

export function readObject(raw: RawObject, source?: SourceLocation): ReadResult<ReadObject> {
  const use = objectUse(raw);
  switch (use.use) {
    case 'read': return use.reader(raw, source);
    case 'ignored': return NOTHING;
    case 'problem': {
      const id = readIdentity(raw, false);
      return { object: null, problems: [problem({ kind: id.kind || 'Object', namespace: id.namespace, name: id.name }, use.message, 'error', source)] };
    }
  }
}

function readSmi(raw: RawObject, source?: SourceLocation): ReadResult<ReadObject> {
  const { object, problems } = parseSmiObject(raw, source);
  return { object, problems: problems.map(named) };
}

function readGateway(raw: RawObject, source?: SourceLocation): ReadResult<ReadObject> {
  const { object, problems } = parseGatewayObject(raw, source);
  return { object, problems: problems.map(named) };
}

/** Every problem names an object, even one without a kind or a name. */
function named(p: Problem): Problem {
  return p.name && p.kind ? p : { ...p, kind: p.kind || 'Object', name: p.name || UNNAMED };
}

const NOTHING: ReadResult<ReadObject> = { object: null, problems: [] as readonly Problem[] };
