/**
 * AKS (and k3s) let users extend CoreDNS through the `coredns-custom` ConfigMap instead of the
 * managed Corefile: every `*.server` key is imported as extra server blocks. There Plexus owns one
 * key per mesh domain and never edits the managed Corefile.
 */
import { renderMeshBlock, type MeshDnsOptions } from './corefile-block.js';
import { CorefilePatchError, assertNoForeignBlock, unpatchCorefile, validateOptions } from './corefile.js';

export interface CustomKeyEdit {
  readonly key: string;
  readonly value: string;
  /** False when the key already holds exactly this value. */
  readonly changed: boolean;
}

/** The data key Plexus owns in `coredns-custom` for a mesh domain. */
export const customServerKey = (meshDomain: string): string => `plexus-${meshDomain}.server`;

/**
 * The key/value to set in `coredns-custom`. Refuses when another `*.server` key already serves
 * the mesh domain.
 */
export function patchCustomConfigMap(data: Readonly<Record<string, string>>, opts: MeshDnsOptions): CustomKeyEdit {
  validateOptions(opts);
  const key = customServerKey(opts.meshDomain);
  for (const [otherKey, text] of Object.entries(data)) {
    if (otherKey === key || !otherKey.endsWith('.server')) continue;
    try {
      assertNoForeignBlock(unpatchCorefile(text).corefile, opts.meshDomain);
    } catch (err) {
      throw new CorefilePatchError(`coredns-custom key ${otherKey}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const value = `${renderMeshBlock(opts).join('\n')}\n`;
  return { key, value, changed: data[key] !== value };
}

/** The `coredns-custom` keys Plexus wrote (for one mesh domain, or all): delete them to restore. */
export function plexusCustomKeys(data: Readonly<Record<string, string>>, meshDomain?: string): string[] {
  const ours = (key: string): boolean =>
    meshDomain === undefined ? /^plexus-[a-z0-9.-]+\.server$/.test(key) : key === customServerKey(meshDomain);
  return Object.keys(data).filter(ours).sort();
}
