/**
 * A protocol-faithful fake Kubernetes API server over plain HTTP, for tests that drive the real
 * `@kubernetes/client-node` against it. See README.md for what it serves and where it differs.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as discovery from './discovery.js';
import { applyPatch, isObject, PATCH_TYPES, PatchError, type Json, type JsonObject, type PatchType } from './patch.js';
import { apiVersionOf, BUILTIN_TYPES, storageKey, type ResourceType } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError, type FieldSelector, type LabelSelector } from './selectors.js';
import * as status from './status.js';
import { ApiError } from './status.js';
import { Store, TooOldResourceVersionError } from './store.js';
import { forward, proxyTarget } from './pod-proxy.js';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { TokenAuthenticator } from './token-review.js';
import { metadataDecodeError, validateMetadata } from './metadata.js';
import { applyDefaults, decodeError, validate, validateName } from './validation.js';
import { openWatch, type WatchStream } from './watch.js';

export interface FakeApiServerOptions {
  readonly host?: string;
  /** 0 (default) picks a free port; restart() reuses the port first bound. */
  readonly port?: number;
  /** How often a watch with `allowWatchBookmarks=true` gets a BOOKMARK (default 1000 ms). */
  readonly bookmarkIntervalMs?: number;
  /**
   * TEST-ONLY: accept loopback addresses (127.0.0.0/8, ::1) in EndpointSlices and Endpoints so
   * tests can route real traffic to loopback servers. The real server rejects them (422).
   */
  readonly allowLoopbackEndpoints?: boolean;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: Json | undefined;
  readonly status: number;
}

interface Target {
  readonly type: ResourceType;
  /** null: across all namespaces (or a cluster-scoped kind). */
  readonly namespace: string | null;
  readonly name: string | null;
  readonly subresource: string | null;
  readonly watchPrefix: boolean;
}

const KINDS_WITH_GENERATION = new Set(['apps/Deployment', 'apps/DaemonSet', 'networking.k8s.io/NetworkPolicy', 'apiextensions.k8s.io/CustomResourceDefinition', 'discovery.k8s.io/EndpointSlice']);
const UNCONDITIONAL_UPDATE_REFUSED = new Set(['coordination.k8s.io/Lease', 'apiextensions.k8s.io/CustomResourceDefinition']);
const CLUSTER_IP_BASE = [10, 96];
const PRESET_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class FakeApiServer {
  readonly store = new Store();
  readonly requests: RequestLogEntry[] = [];
  /** Tokens TokenReview accepts: `tokens.register(token, user)`. */
  readonly tokens = new TokenAuthenticator();
  private readonly host: string;
  private boundPort: number;
  private readonly bookmarkIntervalMs: number;
  private readonly allowLoopbackEndpoints: boolean;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<WatchStream>();
  /** While frozen: requests held unanswered (released by thaw()), and which ones. */
  private held: (() => void)[] | null = null;
  private holds: (method: string, path: string) => boolean = () => true;
  private nextClusterIP = 1;

  constructor(options: FakeApiServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.boundPort = options.port ?? 0;
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1000;
    this.allowLoopbackEndpoints = options.allowLoopbackEndpoints ?? false;
    for (const name of PRESET_NAMESPACES) {
      this.createObject(this.typeFor('', 'v1', 'namespaces')!, null, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      if (this.held && this.holds(req.method ?? 'GET', new URL(req.url ?? '/', 'http://fake').pathname)) this.held.push(() => void this.handle(req, res));
      else void this.handle(req, res);
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.host, () => resolve());
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes the listener and every connection; the data (the "etcd") is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const watch of this.watches) watch.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** stop() then start() on the same port with the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * A hung API server (overloaded, or a half-open connection): connections are accepted, new
   * requests get no answer and open watches go quiet until thaw() answers the held requests.
   * With `holds`, only the requests it picks hang (open watches keep flowing).
   */
  freeze(holds?: (method: string, path: string) => boolean): void {
    this.held ??= [];
    this.holds = holds ?? (() => true);
    if (!holds) for (const watch of this.watches) watch.pause();
  }

  thaw(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const watch of this.watches) watch.resume();
    for (const handle of held) handle();
  }

  /** Cuts every open watch connection mid-stream (the client sees a network error). */
  breakWatches(): void {
    for (const watch of this.watches) {
      watch.response.socket?.destroy();
      watch.close();
    }
  }

  /** Compacts the history: resuming a watch or a list continue from before now is 410 Gone. */
  compact(): void {
    this.store.compact();
  }

  /** Writes (POST/PUT/PATCH/DELETE) seen so far, for asserting what a client changed. */
  writes(): RequestLogEntry[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  /** All served types: built-ins plus every served version of every established CRD. */
  types(): ResourceType[] {
    const types = [...BUILTIN_TYPES];
    for (const crd of this.store.list(storageKey('apiextensions.k8s.io', 'customresourcedefinitions'))) {
      const spec = crd.spec as JsonObject;
      const names = spec.names as JsonObject;
      for (const version of spec.versions as JsonObject[]) {
        if (version.served !== true) continue;
        const subresources = isObject(version.subresources) ? version.subresources : {};
        types.push({
          group: spec.group as string,
          version: version.name as string,
          kind: names.kind as string,
          plural: names.plural as string,
          singular: (names.singular as string | undefined) ?? (names.kind as string).toLowerCase(),
          namespaced: spec.scope === 'Namespaced',
          statusSubresource: subresources.status !== undefined,
          nameRule: 'dns1123-subdomain',
          ...(Array.isArray(names.shortNames) ? { shortNames: names.shortNames as string[] } : {}),
        });
      }
    }
    return types;
  }

  private typeFor(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types().find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    let body: Json | undefined;
    let code = 200;
    try {
      body = await readBody(req);
      const proxied = req.method === 'GET' ? proxyTarget(url.pathname, url.search) : null;
      if (proxied !== null) {
        const relay = new AbortController();
        res.once('close', () => relay.abort());
        const answer = await forward(proxied, this.store.get(storageKey('', 'pods'), proxied.namespace, proxied.name), req.headers, relay.signal);
        code = answer.code;
        res.writeHead(answer.code, { 'Content-Type': answer.contentType });
        res.flushHeaders();
        if (answer.body === null) res.end();
        else Readable.fromWeb(answer.body as NodeReadableStream<Uint8Array>).on('error', () => res.destroy()).pipe(res);
        this.requests.push({ method: 'GET', path: url.pathname, query, contentType, authorization: req.headers.authorization, body, status: code });
        return;
      }
      const result = this.route(req.method ?? 'GET', url.pathname, query, contentType, body, res);
      if (result === 'streaming') {
        code = 200;
      } else {
        code = result.code;
        send(res, result.code, result.body);
      }
    } catch (error) {
      const apiError = error instanceof ApiError ? error
        : error instanceof SyntaxError ? status.badRequest(`the body of the request was in an unknown format: ${error.message}`)
        : status.failure(500, 'InternalError', String(error));
      code = apiError.status.code;
      send(res, code, apiError.status);
    }
    this.requests.push({
      method: req.method ?? 'GET', path: url.pathname, query, contentType,
      authorization: req.headers.authorization, body, status: code,
    });
  }

  private route(method: string, path: string, query: Record<string, string>, contentType: string | undefined, body: Json | undefined, res: ServerResponse): { code: number; body: unknown } | 'streaming' {
    const segments = path.split('/').filter((s) => s !== '');
    if (method === 'GET') {
      if (path === '/version') return ok({ major: '1', minor: '31', gitVersion: 'v1.31.0-plexus-fake', platform: 'linux/amd64' });
      if (path === '/healthz' || path === '/readyz' || path === '/livez') return ok('ok');
      if (path === '/api') return ok(discovery.coreVersions());
      if (path === '/apis') return ok(discovery.groupList(this.types()));
      if (segments[0] === 'apis' && segments.length === 2) return found(discovery.group(this.types(), segments[1]!), path);
      if (segments[0] === 'api' && segments.length === 2) return found(discovery.resourceList(this.types(), '', segments[1]!), path);
      if (segments[0] === 'apis' && segments.length === 3) return found(discovery.resourceList(this.types(), segments[1]!, segments[2]!), path);
    }
    if (path === '/apis/authentication.k8s.io/v1/tokenreviews') {
      if (method !== 'POST') throw status.failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      return { code: 201, body: this.tokens.review(requireObject(body)) };
    }
    const target = this.resolve(segments);
    if (!target) throw status.failure(404, 'NotFound', 'the server could not find the requested resource');
    const { type, namespace, name, subresource } = target;
    if (subresource !== null && !(subresource === 'status' && type.statusSubresource)) {
      throw status.failure(404, 'NotFound', 'the server could not find the requested resource');
    }
    const watching = target.watchPrefix || query.watch === 'true' || query.watch === '1';
    switch (method) {
      case 'GET':
        if (watching) {
          this.watch(type, namespace, name, query, res);
          return 'streaming';
        }
        if (name === null) return ok(this.list(type, namespace, query));
        return ok(this.present(type, this.mustGet(type, namespace, name)));
      case 'POST':
        if (name !== null) throw status.failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        return { code: 201, body: this.present(type, this.createObject(type, namespace, requireObject(body))) };
      case 'PUT':
        if (name === null) throw status.failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        return ok(this.present(type, this.updateObject(type, namespace, name, requireObject(body), subresource === 'status')));
      case 'PATCH': {
        if (name === null) throw status.failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        if (!PATCH_TYPES.includes(contentType as PatchType)) {
          throw status.failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
        }
        if (contentType === 'application/strategic-merge-patch+json' && !this.isBuiltin(type)) {
          throw status.failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
        }
        const current = this.mustGet(type, namespace, name);
        let patched: JsonObject;
        try {
          patched = applyPatch(this.present(type, current), body ?? null, contentType as PatchType);
        } catch (error) {
          if (!(error instanceof PatchError)) throw error;
          // Like the real server: a patch that does not apply is a 422 Invalid with the patch library's message.
          throw error.code === 422 ? status.failure(422, 'Invalid', error.message)
            : status.failure(error.code, error.code === 415 ? 'UnsupportedMediaType' : 'BadRequest', error.message);
        }
        return ok(this.present(type, this.updateObject(type, namespace, name, patched, subresource === 'status')));
      }
      case 'DELETE':
        if (name === null) throw status.failure(405, 'MethodNotAllowed', 'deletecollection is not served by this fake server');
        return ok(this.present(type, this.deleteObject(type, namespace, name, body)));
      default:
        throw status.failure(405, 'MethodNotAllowed', `method ${method} not allowed`);
    }
  }

  private resolve(segments: readonly string[]): Target | null {
    let group: string;
    let rest: string[];
    if (segments[0] === 'api' && segments.length >= 3) {
      group = '';
      rest = segments.slice(1);
    } else if (segments[0] === 'apis' && segments.length >= 4) {
      group = segments[1]!;
      rest = segments.slice(2);
    } else return null;
    const version = rest[0]!;
    let parts = rest.slice(1);
    const watchPrefix = parts[0] === 'watch';
    if (watchPrefix) parts = parts.slice(1);
    let namespace: string | null = null;
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      const inner = this.typeFor(group, version, parts[2]!);
      if (inner?.namespaced) {
        namespace = parts[1]!;
        parts = parts.slice(2);
      }
    }
    const type = this.typeFor(group, version, parts[0] ?? '');
    if (!type || parts.length > 3) return null;
    if (!type.namespaced && namespace !== null) return null;
    return { type, namespace, name: parts[1] ?? null, subresource: parts[2] ?? null, watchPrefix };
  }

  // ---- verbs ----

  /** The object as read through `type`'s version (stored objects are version-neutral). */
  private present(type: ResourceType, object: JsonObject): JsonObject {
    return { ...structuredClone(object), apiVersion: apiVersionOf(type), kind: type.kind };
  }

  private mustGet(type: ResourceType, namespace: string | null, name: string): JsonObject {
    const object = this.store.get(storageKey(type.group, type.plural), namespace ?? '', name);
    if (!object) throw status.notFound(type.plural, type.group, name);
    return object;
  }

  private list(type: ResourceType, namespace: string | null, query: Record<string, string>): object {
    const labels = parseSelectors(() => parseLabelSelector(query.labelSelector ?? null));
    const fields = parseSelectors(() => parseFieldSelector(query.fieldSelector ?? null, type.kind));
    const limit = query.limit ? Number(query.limit) : 0;
    const storage = storageKey(type.group, type.plural);
    const current = this.store.resourceVersion;
    const requested = listResourceVersion(query, current);
    let rv = current;
    let after: string | null = null;
    if (query.continue) {
      const token = decodeContinue(query.continue);
      rv = token.rv;
      after = token.after;
    } else if (query.resourceVersionMatch === 'Exact') rv = requested!;
    let objects: JsonObject[];
    try {
      objects = rv === current ? this.store.list(storage) : this.store.listAt(storage, rv);
    } catch (error) {
      if (!(error instanceof TooOldResourceVersionError)) throw error;
      throw status.gone(query.continue || limit > 0
        ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.'
        : 'The resourceVersion for the provided list is too old.');
    }
    const matching = objects.filter((o) => this.selects(o, namespace, labels, fields) && (after === null || keyOf(o) > after));
    const page = limit > 0 ? matching.slice(0, limit) : matching;
    const metadata: JsonObject = { resourceVersion: String(rv) };
    if (limit > 0 && matching.length > limit) {
      metadata.continue = encodeContinue(rv, keyOf(page[page.length - 1]!));
      // The real server can count what is left only when nothing is filtered.
      if (labels.length === 0 && fields.length === 0) metadata.remainingItemCount = matching.length - limit;
    }
    const builtin = BUILTIN_TYPES.includes(type);
    // Like the real server, items of built-in lists carry no kind/apiVersion; custom resources do.
    const items = page.map((o) => {
      const presented = this.present(type, o);
      if (!builtin) return presented;
      const { kind: _kind, apiVersion: _apiVersion, ...rest } = presented;
      return rest;
    });
    return { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items };
  }

  private selects(object: JsonObject, namespace: string | null, labels: LabelSelector, fields: FieldSelector): boolean {
    const metadata = object.metadata as JsonObject;
    if (namespace !== null && metadata.namespace !== namespace) return false;
    const objectLabels = isObject(metadata.labels) ? (metadata.labels as Record<string, string>) : {};
    return matchesLabels(labels, objectLabels) && matchesFields(fields, object);
  }

  private createObject(type: ResourceType, namespace: string | null, input: JsonObject): JsonObject {
    const object = structuredClone(input);
    checkKind(type, object);
    const metadata: JsonObject = isObject(object.metadata) ? object.metadata : {};
    object.metadata = metadata;
    if ((metadata.name === undefined || metadata.name === '') && typeof metadata.generateName === 'string') {
      metadata.name = `${metadata.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    }
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    if (name === '') throw status.invalid(type.kind, type.group, '', [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }]);
    if (type.namespaced) {
      if (namespace === null) throw status.failure(404, 'NotFound', 'the server could not find the requested resource');
      if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
        throw status.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      metadata.namespace = namespace;
      if (!this.store.get(storageKey('', 'namespaces'), '', namespace)) throw status.notFound('namespaces', '', namespace);
    } else delete metadata.namespace;
    for (const field of ['resourceVersion', 'uid', 'creationTimestamp', 'deletionTimestamp'] as const) delete metadata[field];
    if (type.statusSubresource && !(type.group === 'apiextensions.k8s.io')) object.status = {};
    if (type.kind === 'Service' && type.group === '') object.status = { loadBalancer: {} };
    this.admit(type, object, name, null);
    if (this.store.get(storageKey(type.group, type.plural), metadata.namespace as string | undefined ?? '', name)) {
      throw status.alreadyExists(type.plural, type.group, name);
    }
    if (this.tracksGeneration(type)) metadata.generation = 1;
    if (type.kind === 'CustomResourceDefinition') object.status = establishedStatus(object);
    return this.store.put(storageKey(type.group, type.plural), object);
  }

  private updateObject(type: ResourceType, namespace: string | null, name: string, input: JsonObject, statusOnly: boolean): JsonObject {
    const current = this.mustGet(type, namespace, name);
    const object = structuredClone(input);
    checkKind(type, object);
    const metadata: JsonObject = isObject(object.metadata) ? object.metadata : {};
    object.metadata = metadata;
    if (metadata.name !== undefined && metadata.name !== name) {
      throw status.badRequest(`the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`);
    }
    if (type.namespaced && metadata.namespace !== undefined && metadata.namespace !== namespace) {
      throw status.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const currentMetadata = current.metadata as JsonObject;
    if ((metadata.resourceVersion === undefined || metadata.resourceVersion === '') && !this.allowsUnconditionalUpdate(type)) {
      throw status.failure(422, 'Invalid', `${type.group ? `${type.plural}.${type.group}` : type.plural} "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`, {
        name, group: type.group, kind: type.plural,
        causes: [{ field: 'metadata.resourceVersion', reason: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update' }],
      });
    }
    if (metadata.resourceVersion !== undefined && metadata.resourceVersion !== '' && metadata.resourceVersion !== currentMetadata.resourceVersion) {
      throw status.conflict(type.plural, type.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    let next: JsonObject;
    if (statusOnly) {
      next = { ...structuredClone(current), status: object.status ?? null };
    } else {
      next = object;
      if (type.statusSubresource) next.status = structuredClone(current.status ?? null);
      // Server-owned metadata cannot be changed by an update.
      for (const field of ['uid', 'creationTimestamp', 'generation', 'namespace'] as const) {
        if (currentMetadata[field] !== undefined) metadata[field] = currentMetadata[field];
      }
      metadata.name = name;
      if (type.kind === 'Service' && type.group === '') keepAllocatedClusterIP(current, next, name);
    }
    this.admit(type, next, name, current);
    const labelsChanged = type.kind === 'EndpointSlice' && JSON.stringify(currentMetadata.labels ?? {}) !== JSON.stringify((next.metadata as JsonObject).labels ?? {});
    if (this.tracksGeneration(type) && (specChanged(current, next) || labelsChanged)) {
      (next.metadata as JsonObject).generation = ((currentMetadata.generation as number | undefined) ?? 0) + 1;
    }
    if (JSON.stringify(stripVersion(next)) === JSON.stringify(stripVersion(current))) return current;
    return this.store.put(storageKey(type.group, type.plural), next);
  }

  private deleteObject(type: ResourceType, namespace: string | null, name: string, options: Json | undefined): JsonObject {
    const current = this.mustGet(type, namespace, name);
    const metadata = current.metadata as JsonObject;
    const preconditions = isObject(options) && isObject(options.preconditions) ? options.preconditions : {};
    if (typeof preconditions.uid === 'string' && preconditions.uid !== metadata.uid) {
      throw status.conflict(type.plural, type.group, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${String(metadata.uid)}`);
    }
    if (typeof preconditions.resourceVersion === 'string' && preconditions.resourceVersion !== metadata.resourceVersion) {
      throw status.conflict(type.plural, type.group, name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${String(metadata.resourceVersion)}`);
    }
    if (type.kind === 'Namespace' && type.group === '') this.deleteNamespaceContents(name);
    if (type.kind === 'CustomResourceDefinition') {
      const spec = current.spec as JsonObject;
      this.store.dropKind(storageKey(spec.group as string, (spec.names as JsonObject).plural as string));
    }
    return this.store.remove(storageKey(type.group, type.plural), namespace ?? '', name)!;
  }

  /** The real server finalizes a namespace by deleting its contents; this one does it at once. */
  private deleteNamespaceContents(namespace: string): void {
    const seen = new Set<string>();
    for (const type of this.types()) {
      const storage = storageKey(type.group, type.plural);
      if (!type.namespaced || seen.has(storage)) continue;
      seen.add(storage);
      for (const object of this.store.list(storage)) {
        const metadata = object.metadata as JsonObject;
        if (metadata.namespace === namespace) this.store.remove(storage, namespace, metadata.name as string);
      }
    }
  }

  private admit(type: ResourceType, object: JsonObject, name: string, current: JsonObject | null): void {
    const undecodable = metadataDecodeError(type.kind, object) ?? decodeError(type, object);
    if (undecodable) throw status.badRequest(undecodable);
    const causes = [...validateName(name, type.nameRule), ...validateMetadata(object)];
    applyDefaults(type, object, () => this.allocateClusterIP());
    causes.push(...validate(type, object, { allowLoopbackEndpoints: this.allowLoopbackEndpoints }));
    if (current && type.kind === 'CustomResourceDefinition') {
      const was = current.spec as JsonObject;
      const now = object.spec as JsonObject;
      if (was.group !== now.group) causes.push({ field: 'spec.group', reason: 'FieldValueInvalid', message: 'field is immutable' });
    }
    if (causes.length > 0) throw status.invalid(type.kind, type.group, name, causes);
  }

  /** Leases, CRDs and custom resources refuse a PUT without metadata.resourceVersion (AllowUnconditionalUpdate false). */
  private allowsUnconditionalUpdate(type: ResourceType): boolean {
    return !UNCONDITIONAL_UPDATE_REFUSED.has(`${type.group}/${type.kind}`) && this.isBuiltin(type);
  }

  private isBuiltin(type: ResourceType): boolean {
    return BUILTIN_TYPES.some((b) => b.group === type.group && b.plural === type.plural);
  }

  private tracksGeneration(type: ResourceType): boolean {
    return KINDS_WITH_GENERATION.has(`${type.group}/${type.kind}`) || !this.isBuiltin(type);
  }

  private allocateClusterIP(): string {
    const n = this.nextClusterIP++;
    return `${CLUSTER_IP_BASE[0]}.${CLUSTER_IP_BASE[1]! + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
  }

  // ---- watch ----

  private watch(type: ResourceType, namespace: string | null, name: string | null, query: Record<string, string>, res: ServerResponse): void {
    if (query.resourceVersionMatch) throw status.invalidListOptions('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch');
    const labels = parseSelectors(() => parseLabelSelector(query.labelSelector ?? null));
    let fields = parseSelectors(() => parseFieldSelector(query.fieldSelector ?? null, type.kind));
    if (name !== null) fields = [...fields, { field: 'metadata.name', equal: true, value: name }];
    const stream = openWatch(this.store, {
      type,
      storage: storageKey(type.group, type.plural),
      matches: (o) => o !== null && this.selects(o, namespace, labels, fields),
      present: (o) => this.present(type, o),
      query,
      bookmarkIntervalMs: this.bookmarkIntervalMs,
    }, res, (closed) => this.watches.delete(closed));
    if (stream) this.watches.add(stream);
  }
}

// ---- helpers ----

function ok(body: unknown): { code: number; body: unknown } {
  return { code: 200, body };
}

function found(body: object | null, path: string): { code: number; body: unknown } {
  if (body === null) throw status.failure(404, 'NotFound', `the server could not find the requested resource (${path})`);
  return ok(body);
}

function send(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Json | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? undefined : (JSON.parse(text) as Json);
}

function requireObject(body: Json | undefined): JsonObject {
  if (!isObject(body)) throw status.badRequest('the body of the request must be a JSON object');
  return body;
}

function checkKind(type: ResourceType, object: JsonObject): void {
  if (object.kind !== undefined && object.kind !== type.kind) {
    throw status.badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersionOf(type)})`);
  }
  if (object.apiVersion !== undefined && object.apiVersion !== apiVersionOf(type)) {
    throw status.badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersionOf(type)})`);
  }
}

function parseSelectors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof SelectorError) throw status.badRequest(error.message);
    throw error;
  }
}

function keyOf(object: JsonObject): string {
  const metadata = object.metadata as JsonObject;
  return `${(metadata.namespace as string | undefined) ?? ''}/${metadata.name as string}`;
}

/**
 * Checks a list's resourceVersion / resourceVersionMatch / continue like the real server and
 * returns the requested resourceVersion (null: unset or 0, i.e. the current state).
 */
function listResourceVersion(query: Record<string, string>, current: number): number | null {
  const rv = query.resourceVersion ?? '';
  const match = query.resourceVersionMatch ?? '';
  if (match !== '') {
    if (rv === '') throw status.invalidListOptions('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (query.continue) throw status.invalidListOptions('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
    if (match !== 'Exact' && match !== 'NotOlderThan') {
      throw status.failure(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan", ""`);
    }
    if (match === 'Exact' && rv === '0') throw status.invalidListOptions('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  }
  if (rv === '' || rv === '0') return null;
  if (query.continue) throw status.badRequest('specifying resource version is not allowed when using continue');
  if (!/^\d+$/.test(rv)) throw status.badRequest(`invalid resource version: "${rv}"`);
  const requested = Number(rv);
  if (requested > current) throw status.tooLargeResourceVersion(requested, current);
  return requested;
}

function encodeContinue(rv: number, after: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: after })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; after: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof parsed.rv === 'number' && typeof parsed.start === 'string') return { rv: parsed.rv, after: parsed.start };
  } catch {
    // fall through to the error below
  }
  throw status.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

function stripVersion(object: JsonObject): JsonObject {
  const { metadata, ...rest } = object;
  const { resourceVersion: _rv, ...meta } = isObject(metadata) ? metadata : {};
  return { ...rest, metadata: meta };
}

function specChanged(a: JsonObject, b: JsonObject): boolean {
  const body = (o: JsonObject): string => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return JSON.stringify(rest);
  };
  return body(a) !== body(b);
}

/**
 * Like the real server, an update that omits the clusterIP keeps it; changing it is invalid.
 * A Service turned ExternalName loses the fields only a cluster IP has, when the update merely
 * carried them over (the real server's dropTypeDependentFields).
 */
function keepAllocatedClusterIP(current: JsonObject, next: JsonObject, name: string): void {
  const was = isObject(current.spec) ? current.spec : {};
  const spec: JsonObject = isObject(next.spec) ? next.spec : {};
  next.spec = spec;
  if (spec.type === 'ExternalName' && was.type !== 'ExternalName') {
    for (const field of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy']) {
      if (spec[field] === undefined || JSON.stringify(spec[field]) === JSON.stringify(was[field])) delete spec[field];
    }
    return;
  }
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    if (was.clusterIP !== undefined) spec.clusterIP = was.clusterIP;
    if (was.clusterIPs !== undefined) spec.clusterIPs = was.clusterIPs;
  } else if (was.clusterIP !== undefined && spec.clusterIP !== was.clusterIP && spec.type !== 'ExternalName' && was.type !== 'ExternalName') {
    throw status.invalid('Service', '', name, [{ field: 'spec.clusterIPs[0]', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(spec.clusterIP)}: may not change once set` }]);
  }
}

function establishedStatus(crd: JsonObject): JsonObject {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const spec = crd.spec as JsonObject;
  return {
    acceptedNames: structuredClone(spec.names ?? {}),
    conditions: [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: now },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: now },
    ],
    storedVersions: (spec.versions as JsonObject[]).filter((v) => v.storage === true).map((v) => v.name as string),
  };
}
