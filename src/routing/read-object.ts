/**
 * Dispatches one raw object to its reader by kind and apiVersion. Objects of kinds the compiler
 * does not use (Deployments, ConfigMaps, a Knative `Service`, …) read as null without a problem.
 */
import { isSmiApiVersion, parseSmiObject } from '../smi/parse.js';
import type { SmiObject } from '../smi/model.js';
import { readEndpoints, readEndpointSlice } from './kube/endpoints.js';
import { readNamespace } from './kube/namespace.js';
import { readPod } from './kube/pod.js';
import { readService } from './kube/service.js';
import type { KubeObject, ReadResult } from './kube/types.js';
import type { Problem, SourceLocation } from '../model/problem.js';
import { UNNAMED } from './raw.js';
import type { RawObject } from '../model/snapshot.js';

export type ReadObject = KubeObject | SmiObject;

const ENDPOINT_SLICE_VERSIONS: ReadonlySet<unknown> = new Set(['discovery.k8s.io/v1', 'discovery.k8s.io/v1beta1']);

export function readObject(raw: RawObject, source?: SourceLocation): ReadResult<ReadObject> {
  const { kind, apiVersion } = raw;
  if (apiVersion === 'v1') {
    switch (kind) {
      case 'Service': return readService(raw, source);
      case 'Endpoints': return readEndpoints(raw, source);
      case 'Pod': return readPod(raw, source);
      case 'Namespace': return readNamespace(raw, source);
      default: return NOTHING;
    }
  }
  if (kind === 'EndpointSlice' && ENDPOINT_SLICE_VERSIONS.has(apiVersion)) return readEndpointSlice(raw, source);
  if (isSmiApiVersion(apiVersion)) {
    const { object, problems } = parseSmiObject(raw, source);
    return { object, problems: problems.map(named) };
  }
  return NOTHING;
}

/** Every problem names an object, even one without a kind or a name. */
function named(p: Problem): Problem {
  return p.name && p.kind ? p : { ...p, kind: p.kind || 'Object', name: p.name || UNNAMED };
}

const NOTHING: ReadResult<ReadObject> = { object: null, problems: [] as readonly Problem[] };
