/**
 * The three PATCH content types the API server accepts from clients (server-side apply is not
 * served). Strategic merge is a JSON merge patch that merges the lists Kubernetes declares with a
 * merge key (containers by name, Service ports by port, ...) and honours `$patch: delete|replace`
 * on list items and maps, `$setElementOrder/<list>` (which `kubectl apply` sends with every
 * merged list), `$retainKeys` and `$deleteFromPrimitiveList/<list>`.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export class PatchError extends Error {
  constructor(message: string, readonly code: 400 | 415 | 422 = 422) {
    super(message);
  }
}

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

export function applyPatch(target: JsonObject, patch: Json, type: PatchType): JsonObject {
  let result: Json;
  if (type === 'application/json-patch+json') result = applyJsonPatch(target, patch);
  else if (type === 'application/merge-patch+json') result = mergePatch(target, patch);
  else result = strategicMerge(target, patch, '');
  if (!isObject(result)) throw new PatchError('the patch result is not an object', 422);
  return result;
}

// ---- RFC 6902 ----

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer "${path}"`, 400);
  return path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: Json, parts: readonly string[]): Json | undefined {
  let current: Json | undefined = doc;
  for (const part of parts) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isObject(current)) current = Object.prototype.hasOwnProperty.call(current, part) ? current[part] : undefined;
    else return undefined;
  }
  return current;
}

function parentOf(doc: Json, parts: readonly string[], op: string): { parent: Json; key: string } {
  const parent = getAt(doc, parts.slice(0, -1));
  if (parent === undefined || (typeof parent !== 'object') || parent === null) {
    throw new PatchError(`${op} operation does not apply: doc is missing path: "/${parts.join('/')}"`);
  }
  return { parent, key: parts[parts.length - 1]! };
}

function addAt(doc: Json, parts: readonly string[], value: Json): Json {
  if (parts.length === 0) return value;
  const { parent, key } = parentOf(doc, parts, 'add');
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new PatchError(`add operation: index ${key} out of range`);
    parent.splice(index, 0, value);
  } else (parent as JsonObject)[key] = value;
  return doc;
}

function removeAt(doc: Json, parts: readonly string[]): Json {
  const { parent, key } = parentOf(doc, parts, 'remove');
  if (Array.isArray(parent)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) throw new PatchError(`remove operation: index ${key} out of range`);
    parent.splice(index, 1);
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, key)) {
      throw new PatchError(`remove operation does not apply: doc is missing path: "/${parts.join('/')}"`);
    }
    delete (parent as JsonObject)[key];
  }
  return doc;
}

function applyJsonPatch(target: JsonObject, patch: Json): Json {
  if (!Array.isArray(patch)) throw new PatchError('a JSON patch must be an array of operations', 400);
  let doc: Json = clone(target);
  for (const operation of patch) {
    if (!isObject(operation) || typeof operation.op !== 'string' || typeof operation.path !== 'string') {
      throw new PatchError('a JSON patch operation needs "op" and "path"', 400);
    }
    const path = pointer(operation.path);
    const value = operation.value === undefined ? null : clone(operation.value);
    switch (operation.op) {
      case 'add': doc = addAt(doc, path, value); break;
      case 'remove': doc = removeAt(doc, path); break;
      case 'replace':
        if (getAt(doc, path) === undefined) throw new PatchError(`replace operation does not apply: doc is missing key: ${operation.path}`);
        doc = addAt(removeAt(doc, path), path, value);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(operation.value)) {
          throw new PatchError(`testing value ${operation.path} failed`);
        }
        break;
      case 'move':
      case 'copy': {
        if (typeof operation.from !== 'string') throw new PatchError(`${operation.op} operation needs "from"`, 400);
        const from = pointer(operation.from);
        const moved = getAt(doc, from);
        if (moved === undefined) throw new PatchError(`${operation.op} operation does not apply: doc is missing from path: ${operation.from}`);
        if (operation.op === 'move') doc = removeAt(doc, from);
        doc = addAt(doc, path, clone(moved));
        break;
      }
      default:
        throw new PatchError(`unexpected JSON patch operation "${operation.op}"`, 400);
    }
  }
  return doc;
}

// ---- RFC 7386 ----

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

// ---- strategic merge (the list merge keys of the kinds Plexus writes) ----

/** Field path (keys joined by '.', list items transparent) → merge key of that list. */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  'spec.ports': 'port',
  'subsets.addresses': 'ip',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.volumes': 'name',
  'spec.containers.env': 'name',
  'spec.containers.ports': 'containerPort',
  'spec.containers.volumeMounts': 'mountPath',
  'spec.template.spec.containers': 'name',
  'spec.template.spec.initContainers': 'name',
  'spec.template.spec.volumes': 'name',
  'spec.template.spec.containers.env': 'name',
  'spec.template.spec.containers.ports': 'containerPort',
  'spec.template.spec.containers.volumeMounts': 'mountPath',
  'status.conditions': 'type',
  'metadata.ownerReferences': 'uid',
};

const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';
const RETAIN_KEYS = '$retainKeys';

function strategicMerge(target: Json, patch: Json, path: string): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return null;
  const result: JsonObject = isObject(target) ? clone(target) : {};
  const orders: [string, Json[]][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch') throw new PatchError(`unknown patch directive "${String(value)}"`, 400);
    if (key === RETAIN_KEYS) continue;
    if (key.startsWith(SET_ELEMENT_ORDER)) {
      orders.push([key.slice(SET_ELEMENT_ORDER.length), directiveList(key, value)]);
      continue;
    }
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
      const remove = directiveList(key, value).map((v) => JSON.stringify(v));
      const list = result[field];
      if (Array.isArray(list)) result[field] = list.filter((item) => !remove.includes(JSON.stringify(item)));
      continue;
    }
    if (key.startsWith('$')) throw new PatchError(`unknown patch directive ${key}`, 400);
    const childPath = path ? `${path}.${key}` : key;
    if (value === null) delete result[key];
    else if (Array.isArray(value) && MERGE_KEYS[childPath]) {
      result[key] = mergeList(result[key], value, MERGE_KEYS[childPath]!, childPath);
    } else result[key] = strategicMerge(result[key] ?? null, value, childPath);
  }
  for (const [field, order] of orders) {
    const list = result[field];
    const childPath = path ? `${path}.${field}` : field;
    if (Array.isArray(list)) result[field] = reorder(list, order, MERGE_KEYS[childPath]);
  }
  if (patch[RETAIN_KEYS] !== undefined) {
    const keep = new Set(directiveList(RETAIN_KEYS, patch[RETAIN_KEYS]).map(String));
    // As the real server: every field the patch sets must be among the retained keys.
    for (const [key, value] of Object.entries(patch)) {
      if (value !== null && !key.startsWith('$') && !keep.has(key)) throw new PatchError('doesn\'t match $retainKeys: field ' + key, 400);
    }
    for (const key of Object.keys(result)) if (!keep.has(key)) delete result[key];
  }
  return result;
}

function directiveList(key: string, value: Json | undefined): Json[] {
  if (!Array.isArray(value)) throw new PatchError(`invalid value for ${key}: expected a list`, 400);
  return value;
}

/**
 * `$setElementOrder`: the items it names first, in its order, then the others (items only the
 * server has) in their current order. The real server interleaves those by their old positions;
 * only the order differs, never the contents.
 */
function reorder(list: Json[], order: readonly Json[], mergeKey: string | undefined): Json[] {
  const identity = (item: Json): string => JSON.stringify(mergeKey && isObject(item) ? item[mergeKey] ?? null : item);
  const rank = new Map(order.map((item, index) => [identity(item), index]));
  const named = list.filter((item) => rank.has(identity(item))).sort((a, b) => rank.get(identity(a))! - rank.get(identity(b))!);
  return [...named, ...list.filter((item) => !rank.has(identity(item)))];
}

function mergeList(target: Json | undefined, patch: Json[], mergeKey: string, path: string): Json {
  const result: Json[] = Array.isArray(target) ? clone(target) : [];
  for (const item of patch) {
    if (!isObject(item) || item[mergeKey] === undefined) {
      throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`, 422);
    }
    const index = result.findIndex((existing) => isObject(existing) && existing[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = strategicMerge(result[index]!, item, path);
    else result.push(strategicMerge(null, item, path));
  }
  return result;
}
