/**
 * The name of a meshed Service's shadow Service in the mesh namespace.
 *
 * CoreDNS has to turn a query for `<svc>.<ns>.<mesh domain>` into the shadow Service's cluster
 * name, and a Corefile can only express that with a regular expression substitution — it cannot
 * hash. So the name is, whenever possible, a form a regex can compute from the query:
 *
 *   short form   `<svc>--<ns>`            when `<svc>` contains no `--` and the result is ≤ 63
 *   hashed form  `<svc>-<ns>`, cut, `-<12 hex of sha256("<ns>/<svc>")>`   otherwise
 *
 * Why this is sound for every valid Service:
 * - Short forms are injective: a Service name (DNS-1035) never starts or ends with `-`, so when
 *   it holds no `--`, the first `--` of `<svc>--<ns>` is the separator; the namespace after it may
 *   contain anything a DNS-1123 label allows.
 * - Hashed forms never contain `--` (runs of `-` are collapsed), short forms always do, so the two
 *   families never collide; within the hashed family the 48-bit digest keeps names apart.
 * - Both are valid DNS-1035 labels of at most 63 characters.
 *
 * The CoreDNS block carries one regex rule for every short form and one exact rule per hashed
 * Service (rare: a `--` in the Service name or a combined length above 61), see corefile-block.ts.
 */
import { createHash } from 'node:crypto';

/** Longest DNS label (RFC 1035). */
export const MAX_LABEL_LENGTH = 63;

/** The separator between Service name and namespace in a short-form shadow name. */
export const SHORT_FORM_SEPARATOR = '--';

const HASH_LENGTH = 12;

/** A Service name the short form accepts: DNS-1035 label without `--`. */
export const SHORT_FORM_SERVICE_PATTERN = '[a-z][a-z0-9]*(?:-[a-z0-9]+)*';
/** A namespace name (DNS-1123 label). */
export const NAMESPACE_PATTERN = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';

const shortFormService = new RegExp(`^${SHORT_FORM_SERVICE_PATTERN}$`);
const namespaceLabel = new RegExp(`^${NAMESPACE_PATTERN}$`);

/**
 * True when CoreDNS's generic regex rule computes this Service's shadow name from the query
 * name, i.e. no per-Service rule is needed in the Corefile.
 */
export function hasShortShadowName(namespace: string, name: string): boolean {
  return (
    shortFormService.test(name) &&
    namespaceLabel.test(namespace) &&
    name.length + SHORT_FORM_SEPARATOR.length + namespace.length <= MAX_LABEL_LENGTH
  );
}

/** The shadow Service name for Service `namespace/name`; deterministic, a DNS-1035 label ≤ 63. */
export function shadowServiceName(namespace: string, name: string): string {
  if (hasShortShadowName(namespace, name)) return `${name}${SHORT_FORM_SEPARATOR}${namespace}`;
  const digest = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, HASH_LENGTH);
  // Every run of characters outside [a-z0-9] (hyphens included) becomes one `-`: no `--`.
  let readable = `${name}-${namespace}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  if (!/^[a-z]/.test(readable)) readable = `s-${readable}`.replace(/-+/g, '-');
  readable = readable.slice(0, MAX_LABEL_LENGTH - HASH_LENGTH - 1).replace(/-+$/, '');
  return `${readable}-${digest}`;
}
