/**
 * CoreDNS version from a container image reference. Tolerant on purpose: Traefik Mesh broke on
 * `v1.11.3-eksbuild.1`-style tags and refused unknown versions even for uninstall. Here anything
 * that is not a recognisable version gives `null` and a warning; callers then use the modern
 * Corefile syntax.
 */
export type CoreDnsVersion = readonly [number, number, number];

export interface ParsedCoreDnsVersion {
  readonly version: CoreDnsVersion | null;
  readonly warning?: string;
}

// v1.11.3, 1.8.0, 1.7, v1.9.4-hotfix.20230411, v1.11.3-eksbuild.1, 1.10.1+build
const versionTag = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+._].*)?$/i;

export function parseCoreDnsVersion(image: string): ParsedCoreDnsVersion {
  const reference = image.trim();
  const unknown = (why: string): ParsedCoreDnsVersion => ({
    version: null,
    warning: `CoreDNS version unknown (${why}); using the syntax of current CoreDNS versions`,
  });
  if (reference === '') return unknown('empty image reference');
  // The digest says nothing about the version; the tag, when present, sits before it.
  const withoutDigest = reference.split('@')[0] ?? '';
  // A tag follows the last ':' of the last path segment; a ':' before a '/' is a registry port.
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return unknown(`image "${reference}" has no tag`);
  const tag = lastSegment.slice(colon + 1);
  const match = versionTag.exec(tag);
  if (!match) return unknown(`tag "${tag}" of image "${reference}" is not a version`);
  return { version: [Number(match[1]), Number(match[2]), Number(match[3] ?? '0')] };
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareVersions(a: CoreDnsVersion, b: CoreDnsVersion): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export function formatVersion(v: CoreDnsVersion): string {
  return v.join('.');
}
