/** A minimal DNS client (dns-packet over UDP) for end-to-end tests. */
import { createSocket } from 'node:dgram';
import { decode, encode, RECURSION_DESIRED, type DecodedPacket, type RecordType } from 'dns-packet';

export interface DnsReply extends DecodedPacket {
  readonly rcode: string;
}

export function dnsQuery(port: number, name: string, type: RecordType = 'A', server = '127.0.0.1'): Promise<DnsReply> {
  const message = encode({ type: 'query', id: 1 + Math.floor(Math.random() * 65000), flags: RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no DNS answer for ${name} within 5 s`));
    }, 5000);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(decode(reply) as DnsReply);
    });
    socket.send(message, port, server);
  });
}

/** The A record data of a reply (empty when none). */
export function addresses(reply: DnsReply): string[] {
  return (reply.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : []));
}
