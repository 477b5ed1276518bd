/** What every SMI object carries besides its spec: identity, version and origin. */
import type { SourceLocation } from '../model/problem.js';
import { type FieldIssues, type Fields, describe, readMapping, readString } from './fields.js';

export interface SmiObjectMeta {
  readonly namespace: string;
  readonly name: string;
  readonly apiVersion: string;
  readonly creationTimestamp: string;
  readonly source?: SourceLocation;
}

const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `namespace` defaults to "default" when absent, as kubectl does; `name` is '' when missing. */
export function readMeta(issues: FieldIssues, raw: Fields): { namespace: string; name: string; creationTimestamp: string } {
  const metadata = readMapping(issues, raw, 'metadata', '', true);
  if (metadata === undefined) return { namespace: 'default', name: '', creationTimestamp: '' };
  const name = readString(issues, metadata, 'name', 'metadata', true) ?? '';
  if (name !== '' && !DNS_SUBDOMAIN.test(name)) {
    issues.error('metadata.name', `must be a DNS subdomain (lowercase letters, digits, '-' and '.'), got ${describe(name)}`);
  }
  const namespace = readString(issues, metadata, 'namespace', 'metadata', false) ?? 'default';
  if (!DNS_LABEL.test(namespace)) {
    issues.error('metadata.namespace', `must be a DNS label (lowercase letters, digits and '-'), got ${describe(namespace)}`);
  }
  const timestamp = metadata['creationTimestamp'];
  let creationTimestamp = '';
  if (typeof timestamp === 'string') creationTimestamp = timestamp;
  else if (timestamp !== undefined && timestamp !== null) {
    issues.warning('metadata.creationTimestamp', `must be an RFC 3339 string, got ${describe(timestamp)}; ignored`);
  }
  return { namespace, name, creationTimestamp };
}
