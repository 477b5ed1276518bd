/**
 * Meshed Services' own cluster DNS names (`<svc>.<ns>.svc.<cluster domain>`, and through the
 * pods' search path `<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`) leading to the caller's node agent,
 * for the Services that opt in (`plexus.dev/own-names`). Pure text functions, no I/O.
 *
 * How, without a Corefile change per Service: CoreDNS's `hosts` plugin, placed once in the server
 * block that serves the cluster domain, reads a hosts file that maps each opted-in Service's name
 * to its shadow Service's ClusterIPs (which land on the caller's own node agent, as for the mesh
 * domain), and hands every other name on (`fallthrough`) to the `kubernetes` plugin as before.
 * The file is a ConfigMap key mounted into the CoreDNS pods (coredns-own-names.ts); a Service
 * opting in or out changes only that ConfigMap, which the kubelet refreshes in the pods and the
 * plugin reloads, with no CoreDNS restart.
 *
 * `hosts` runs before `kubernetes` in every CoreDNS build (its place in plugin.cfg), so it wins
 * for the names it has; for them it answers A and AAAA (NODATA for a family the shadow Service
 * lacks) and PTR of the shadow address, while SRV and every other name still come from
 * `kubernetes`.
 */
import { type Directive, serverBlocks, zoneOfKey } from './corefile-lexer.js';
import { findRegions, lineTerminator } from './corefile-markers.js';
import { CorefilePatchError, type CorefileEdit } from './corefile.js';

/** The ConfigMap (in the CoreDNS namespace) holding the hosts file, its key, and where it is mounted. */
export const OWN_NAMES_CONFIGMAP = 'plexus-own-names';
export const OWN_NAMES_KEY = 'hosts';
export const OWN_NAMES_VOLUME = 'plexus-own-names';
export const OWN_NAMES_MOUNT = '/etc/plexus-own-names';

/** Seconds CoreDNS and clients may cache an own-name answer; how often the plugin rereads the file. */
const ANSWER_TTL_SECONDS = 5;
const RELOAD_INTERVAL = '2s';

export interface OwnName {
  readonly namespace: string;
  readonly name: string;
  /** The shadow Service's ClusterIPs (one per family). */
  readonly addresses: readonly string[];
}

/** The hosts file: `address fqdn` per line, sorted, so the same Services give the same bytes. */
export function renderOwnNamesHosts(names: readonly OwnName[], clusterDomain: string): string {
  const lines: string[] = [];
  for (const { namespace, name, addresses } of names) {
    for (const address of addresses) lines.push(`${address} ${name}.${namespace}.svc.${clusterDomain}`);
  }
  lines.sort();
  return ['# Managed by Plexus (the leader agent): meshed Services with plexus.dev/own-names → their shadow ClusterIPs.', ...lines, ''].join('\n');
}

const beginMarker = (meshDomain: string): string => `# BEGIN plexus own-names=${meshDomain}`;
const endMarker = (meshDomain: string): string => `# END plexus own-names=${meshDomain}`;

const INDENT = '    ';

function regionLines(meshDomain: string, indent: string): string[] {
  return [
    `${indent}${beginMarker(meshDomain)}`,
    `${indent}# Managed by Plexus; \`plexus cleanup\` removes it. Meshed Services with plexus.dev/own-names answer with their shadow ClusterIP.`,
    `${indent}hosts ${OWN_NAMES_MOUNT}/${OWN_NAMES_KEY} {`,
    `${indent}${indent}ttl ${ANSWER_TTL_SECONDS}`,
    `${indent}${indent}reload ${RELOAD_INTERVAL}`,
    `${indent}${indent}fallthrough`,
    `${indent}}`,
    `${indent}${endMarker(meshDomain)}`,
  ];
}

/** True when the `kubernetes` directive serves `clusterDomain` (its zones, or the root zone). */
function servesClusterDomain(directive: Directive, clusterDomain: string): boolean {
  return directive.name === 'kubernetes' && directive.args.some((zone) => zoneOfKey(zone) === clusterDomain);
}

/**
 * Adds (or refreshes) the `hosts` region inside the server block whose `kubernetes` plugin serves
 * the cluster domain. Refuses a block that has a `hosts` plugin of its own: CoreDNS allows one
 * per server block. Unpatching (corefile.ts) removes the region byte for byte.
 */
export function patchOwnNames(corefile: string, meshDomain: string, clusterDomain: string): CorefileEdit {
  const own = findRegions(corefile).find((r) => r.kind === 'own-names' && r.meshDomain === meshDomain);
  const base = own ? corefile.slice(0, own.start) + corefile.slice(own.end) : corefile;
  const block = serverBlocks(base).find((b) => b.directives.some((d) => servesClusterDomain(d, clusterDomain)));
  if (block === undefined) throw new CorefilePatchError(`no server block of the Corefile serves the cluster domain ${clusterDomain} with the kubernetes plugin`);
  const hosts = block.directives.find((d) => d.name === 'hosts');
  if (hosts !== undefined) {
    throw new CorefilePatchError(
      `Corefile line ${hosts.line}: the server block of ${clusterDomain} has a hosts plugin already, and CoreDNS allows one per block; ` +
        'own names (plexus.dev/own-names) cannot be served there (the mesh domain names still work)',
    );
  }
  const eol = lineTerminator(base);
  // Before the terminator of the `{` line: the region brings its own leading terminator and its
  // END line's, so removing it restores the bytes exactly.
  const insertAt = lineEnd(base, block.openLine);
  const region = eol + regionLines(meshDomain, INDENT).join(eol) + eol;
  const patched = base.slice(0, insertAt) + region + base.slice(insertAt);
  return { corefile: patched, changed: patched !== corefile };
}

/** The offset of the line terminator ending 1-based `line` (the text's end when it has none). */
function lineEnd(text: string, line: number): number {
  let offset = 0;
  for (let n = 1; n < line; n++) offset = text.indexOf('\n', offset) + 1;
  const newline = text.indexOf('\n', offset);
  if (newline < 0) return text.length;
  return newline > 0 && text[newline - 1] === '\r' ? newline - 1 : newline;
}
