/**
 * Patch and unpatch a CoreDNS Corefile: pure text functions, no I/O.
 *
 * The mesh block goes between marker lines naming the mesh domain, appended after one line
 * terminator (so a file without a final newline stays recoverable), or replaced where it already
 * is. Every byte outside the markers is kept; unpatching removes exactly what patching added.
 */
import { CorefileSyntaxError, serverBlocks, zoneOfKey } from './corefile-lexer.js';
import { rootServerPort } from './corefile-inspect.js';
import { findRegions, lineTerminator } from './corefile-markers.js';
import { OLDEST_SUPPORTED, renderMeshBlock, type MeshDnsOptions } from './corefile-block.js';
import { compareVersions, formatVersion } from './corefile-version.js';

export { parseCoreDnsVersion, type CoreDnsVersion, type ParsedCoreDnsVersion } from './corefile-version.js';
export type { MeshDnsOptions, ServiceRef } from './corefile-block.js';
export { CorefileSyntaxError } from './corefile-lexer.js';
export { MarkerError } from './corefile-markers.js';

export interface CorefileEdit {
  readonly corefile: string;
  readonly changed: boolean;
}

/** Invalid options, an unsupported version, or a Corefile Plexus must not touch. */
export class CorefilePatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorefilePatchError';
  }
}

/** Adds or refreshes the mesh block. Patching twice gives the same bytes and `changed: false`. */
export function patchCorefile(corefile: string, opts: MeshDnsOptions): CorefileEdit {
  validateOptions(opts);
  const own = findRegions(corefile).find((r) => r.kind === 'mesh-domain' && r.meshDomain === opts.meshDomain);
  const base = own ? corefile.slice(0, own.start) + corefile.slice(own.end) : corefile;
  assertNoForeignBlock(base, opts.meshDomain);
  const eol = lineTerminator(base);
  const insertAt = own ? own.start : base.length;
  // After a lone '\r' a '\n' would make '\r\n', which unpatching removes whole: write '\r\n'.
  const lead = base.slice(0, insertAt).endsWith('\r') ? '\r\n' : eol;
  const port = opts.port ?? rootServerPort(base) ?? undefined;
  const block = lead + renderMeshBlock(port === undefined ? opts : { ...opts, port }).join(eol) + eol;
  const patched = base.slice(0, insertAt) + block + base.slice(insertAt);
  return { corefile: patched, changed: patched !== corefile };
}

/**
 * Removes the Plexus block of `meshDomain`, or every Plexus block when no domain is given
 * (cleanup must work without knowing how Plexus was configured). Needs no CoreDNS version.
 */
export function unpatchCorefile(corefile: string, meshDomain?: string): CorefileEdit {
  const regions = findRegions(corefile).filter((r) => meshDomain === undefined || r.meshDomain === meshDomain);
  let result = corefile;
  for (const region of [...regions].reverse()) result = result.slice(0, region.start) + result.slice(region.end);
  return { corefile: result, changed: regions.length > 0 };
}

/** Refuses a server block for the mesh domain (or a zone under it) that Plexus did not write. */
export function assertNoForeignBlock(corefile: string, meshDomain: string): void {
  let blocks;
  try {
    blocks = serverBlocks(corefile);
  } catch (err) {
    if (err instanceof CorefileSyntaxError) throw new CorefilePatchError(`${err.message}; not patching a Corefile that cannot be read safely`);
    throw err;
  }
  for (const block of blocks) {
    for (const key of block.keys) {
      const zone = zoneOfKey(key);
      if (zone === meshDomain || zone.endsWith(`.${meshDomain}`)) {
        throw new CorefilePatchError(
          `Corefile line ${block.line}: server block "${block.keys.join(' ')}" already serves the mesh domain ${meshDomain} and was not written by Plexus; ` +
            'remove it, or install Plexus with another --mesh-domain',
        );
      }
    }
  }
}

const dnsLabel = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

function isDnsName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => label.length <= 63 && dnsLabel.test(label));
}

/** Throws CorefilePatchError for options no Corefile may be patched with. */
export function validateOptions(opts: MeshDnsOptions): void {
  if (!isDnsName(opts.meshDomain)) throw new CorefilePatchError(`mesh domain "${opts.meshDomain}" is not a lower-case DNS name`);
  if (!isDnsName(opts.clusterDomain)) throw new CorefilePatchError(`cluster domain "${opts.clusterDomain}" is not a lower-case DNS name`);
  if (opts.meshDomain === opts.clusterDomain) throw new CorefilePatchError(`mesh domain and cluster domain are both "${opts.meshDomain}"`);
  if (opts.namespace.length > 63 || !dnsLabel.test(opts.namespace)) throw new CorefilePatchError(`namespace "${opts.namespace}" is not a DNS-1123 label`);
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 1 && opts.port <= 65535)) {
    throw new CorefilePatchError(`port ${opts.port} is not a port number`);
  }
  if (opts.version && compareVersions(opts.version, OLDEST_SUPPORTED) < 0) {
    throw new CorefilePatchError(`CoreDNS ${formatVersion(opts.version)} is older than ${formatVersion(OLDEST_SUPPORTED)}, the oldest version Plexus supports`);
  }
}
