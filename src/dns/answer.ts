/**
 * The local-mode DNS answer logic, without I/O: a table of mesh names → VIPs, and the response
 * to one decoded query. The responder (responder.ts) only moves bytes.
 */
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import type { MeshConfig } from '../routing/mesh-config.js';

/** Answers are short-lived so a changed VIP (a Service deleted and re-created) is seen quickly. */
export const ANSWER_TTL = 5;

/** RFC 1035 response codes used here. */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const QR = 0x8000;
const AA = 0x0400;
const RD = 0x0100;
const OPCODE_QUERY = 'QUERY';
const EDNS_PAYLOAD_SIZE = 1232;

/** Mesh names (lowercase, no trailing dot) → IPv4 address, inside one mesh domain. */
export interface DnsTable {
  readonly domain: string;
  readonly records: ReadonlyMap<string, string>;
  /** Names that own no record but have names below them (`shop.plexus`): NOERROR, no data. */
  readonly parents: ReadonlySet<string>;
}

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

export function buildDnsTable(domain: string, records: Iterable<readonly [string, string]>): DnsTable {
  const zone = normalizeName(domain);
  const map = new Map<string, string>();
  const parents = new Set<string>();
  for (const [name, ip] of records) {
    const fqdn = normalizeName(name);
    map.set(fqdn, ip);
    for (let dot = fqdn.indexOf('.'); dot >= 0; dot = fqdn.indexOf('.', dot + 1)) {
      const parent = fqdn.slice(dot + 1);
      if (parent.length <= zone.length) break;
      parents.add(parent);
    }
  }
  return { domain: zone, records: map, parents };
}

/** The cluster domain local mode answers own names in (as a cluster's default). */
export const LOCAL_CLUSTER_DOMAIN = 'cluster.local';

/**
 * `<svc>.<ns>.<domain>` → VIP for every meshed Service that has one; and, for those with
 * `plexus.dev/own-names`, `<svc>.<ns>.svc.cluster.local` → the same VIP (a second zone, present
 * only when some Service opts in).
 */
export function dnsTablesFromConfig(config: MeshConfig): DnsTable[] {
  const records: [string, string][] = [];
  const own: [string, string][] = [];
  const ownNames = new Set(config.ownNames ?? []);
  for (const service of config.services) {
    if (!service.vip) continue;
    records.push([`${service.name}.${service.namespace}.${config.meshDomain}`, service.vip]);
    if (ownNames.has(service.key)) own.push([`${service.name}.${service.namespace}.svc.${LOCAL_CLUSTER_DOMAIN}`, service.vip]);
  }
  const tables = [buildDnsTable(config.meshDomain, records)];
  if (own.length > 0) tables.push(buildDnsTable(LOCAL_CLUSTER_DOMAIN, own));
  return tables;
}

function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

function soa(zone: string): Answer {
  return {
    type: 'SOA',
    name: zone,
    ttl: ANSWER_TTL,
    class: 'IN',
    data: {
      mname: `ns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: ANSWER_TTL,
    },
  };
}

/** Fields dns-packet decodes that its type definitions leave out. */
interface DecodedHeader {
  readonly opcode?: string;
}

/**
 * The response to one query, from the table whose zone holds the name (REFUSED when none does),
 * or null when the packet must be ignored (it is itself a response).
 * One question is answered (the common case; several questions in one query are not used in
 * practice); no question → FORMERR.
 */
export function answerQuery(query: DecodedPacket, tables: readonly DnsTable[]): Packet | null {
  if (query.flag_qr) return null;
  const questions: Question[] = (query.questions ?? []).slice(0, 1);
  const wantsEdns = (query.additionals ?? []).some((a) => a.type === 'OPT');
  const response = (rcode: number, answers: Answer[] = [], authorities: Answer[] = []): Packet => ({
    type: 'response',
    id: query.id ?? 0,
    flags: QR | AA | ((query.flags ?? 0) & RD) | rcode,
    questions,
    answers,
    authorities,
    additionals: wantsEdns
      ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
      : [],
  });
  if ((query as DecodedHeader).opcode !== OPCODE_QUERY) return response(RCODE.NOTIMP);
  const question = questions[0];
  if (!question) return response(RCODE.FORMERR);
  const name = normalizeName(question.name);
  const table = tables.find((t) => inZone(name, t.domain));
  if (table === undefined) return response(RCODE.REFUSED);
  if (question.class !== undefined && question.class !== 'IN' && question.class !== 'ANY') {
    return response(RCODE.REFUSED);
  }
  const ip = table.records.get(name);
  if (ip !== undefined) {
    const answers: Answer[] = question.type === 'A'
      ? [{ type: 'A', name: question.name, ttl: ANSWER_TTL, class: 'IN', data: ip }]
      : [];
    return response(RCODE.NOERROR, answers, answers.length ? [] : [soa(table.domain)]);
  }
  if (name === table.domain) {
    return response(RCODE.NOERROR, question.type === 'SOA' ? [soa(table.domain)] : [], question.type === 'SOA' ? [] : [soa(table.domain)]);
  }
  if (table.parents.has(name)) return response(RCODE.NOERROR, [], [soa(table.domain)]);
  return response(RCODE.NXDOMAIN, [], [soa(table.domain)]);
}
