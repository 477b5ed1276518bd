import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { decode, encode, RECURSION_DESIRED, type DecodedPacket, type Packet, type RecordType } from 'dns-packet';
import { buildDnsTable, dnsTablesFromConfig } from '../../../src/dns/answer.js';
import { compileObjects, namespace, service } from '../routing/builders.js';
import { DnsResponder } from '../../../src/dns/responder.js';

const ADDRESS = '127.0.0.1';

function query(name: string, type: RecordType = 'A', id = 4242): Packet {
  return { type: 'query', id, flags: RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] };
}

interface Decoded extends DecodedPacket {
  readonly rcode: string;
}

/** Sends one datagram; resolves to the decoded reply, or null when none came within `waitMs`. */
function udpExchange(port: number, message: Buffer, waitMs = 2000): Promise<Decoded | null> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, waitMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(decode(reply) as Decoded);
    });
    socket.send(message, port, ADDRESS);
  });
}

function frame(message: Buffer): Buffer {
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

/** Opens a TCP connection, writes `bytes`, collects `count` framed replies (or until close). */
function tcpExchange(port: number, bytes: Buffer, count: number): Promise<{ replies: Decoded[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, ADDRESS);
    const replies: Decoded[] = [];
    let pending: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => finish(false), 5000);
    function finish(closed: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve({ replies, closed });
    }
    socket.on('error', reject);
    socket.on('close', () => finish(true));
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        replies.push(decode(pending.subarray(2, 2 + length)) as Decoded);
        pending = pending.subarray(2 + length);
      }
      if (replies.length >= count) finish(false);
    });
    socket.write(bytes);
  });
}

describe('DNS responder', () => {
  let responder: DnsResponder;

  beforeEach(async () => {
    responder = new DnsResponder({ address: ADDRESS, port: 0, domain: 'plexus', tcpIdleTimeoutMs: 500 });
    await responder.start();
    responder.setTables([buildDnsTable('plexus', [['web.shop.plexus', '127.77.0.1'], ['cart.shop.plexus', '127.77.0.2']])]);
  });

  afterEach(async () => {
    await responder.stop();
  });

  it('answers A for a mesh name over UDP with the VIP (case-insensitive, trailing dot, TTL 5)', async () => {
    const reply = await udpExchange(responder.port, encode(query('WEB.Shop.plexus.')));
    expect(reply?.rcode).to.equal('NOERROR');
    expect(reply?.id).to.equal(4242);
    expect(reply?.flag_aa).to.equal(true);
    expect(reply?.answers).to.have.length(1);
    const answer = reply?.answers?.[0];
    expect(answer).to.include({ type: 'A', data: '127.77.0.1', ttl: 5 });
  });

  it('answers NOERROR without answers for AAAA of a known name', async () => {
    const reply = await udpExchange(responder.port, encode(query('web.shop.plexus', 'AAAA')));
    expect(reply?.rcode).to.equal('NOERROR');
    expect(reply?.answers).to.have.length(0);
  });

  it('answers NXDOMAIN with an SOA for an unknown name in the mesh domain', async () => {
    const reply = await udpExchange(responder.port, encode(query('nope.shop.plexus')));
    expect(reply?.rcode).to.equal('NXDOMAIN');
    expect(reply?.authorities?.[0]?.type).to.equal('SOA');
  });

  it('answers NOERROR without answers for a namespace name that has Services below it', async () => {
    const reply = await udpExchange(responder.port, encode(query('shop.plexus')));
    expect(reply?.rcode).to.equal('NOERROR');
    expect(reply?.answers).to.have.length(0);
  });

  it('refuses names outside the mesh domain', async () => {
    const reply = await udpExchange(responder.port, encode(query('example.com')));
    expect(reply?.rcode).to.equal('REFUSED');
    const suffix = await udpExchange(responder.port, encode(query('web.shopplexus')));
    expect(suffix?.rcode).to.equal('REFUSED');
  });

  it('drops malformed UDP packets and keeps answering', async () => {
    for (const junk of [Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.alloc(600, 0xff)]) {
      expect(await udpExchange(responder.port, junk, 300)).to.equal(null);
    }
    const reply = await udpExchange(responder.port, encode(query('cart.shop.plexus')));
    expect(reply?.answers?.[0]).to.include({ data: '127.77.0.2' });
  });

  it('sees a new table as soon as it is set', async () => {
    responder.setTables([buildDnsTable('plexus', [['web.shop.plexus', '127.77.0.9']])]);
    const reply = await udpExchange(responder.port, encode(query('web.shop.plexus')));
    expect(reply?.answers?.[0]).to.include({ data: '127.77.0.9' });
    const gone = await udpExchange(responder.port, encode(query('cart.shop.plexus')));
    expect(gone?.rcode).to.equal('NXDOMAIN');
  });

  it('answers several queries on one TCP connection, split across writes or not', async () => {
    const bytes = Buffer.concat([
      frame(encode(query('web.shop.plexus', 'A', 1))),
      frame(encode(query('cart.shop.plexus', 'A', 2))),
      frame(encode(query('other.shop.plexus', 'A', 3))),
    ]);
    const { replies } = await tcpExchange(responder.port, bytes, 3);
    expect(replies.map((r) => r.id)).to.deep.equal([1, 2, 3]);
    expect(replies[0]?.answers?.[0]).to.include({ data: '127.77.0.1' });
    expect(replies[1]?.answers?.[0]).to.include({ data: '127.77.0.2' });
    expect(replies[2]?.rcode).to.equal('NXDOMAIN');
  });

  it('reassembles a TCP message that arrives byte by byte', async () => {
    const bytes = frame(encode(query('web.shop.plexus', 'A', 7)));
    const result = await new Promise<Decoded>((resolve, reject) => {
      const socket = connect(responder.port, ADDRESS);
      let received: Buffer = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          socket.destroy();
          resolve(decode(received.subarray(2)) as Decoded);
        }
      });
      let index = 0;
      const writeNext = (): void => {
        if (index >= bytes.length) return;
        socket.write(bytes.subarray(index, index + 1), () => setImmediate(writeNext));
        index++;
      };
      socket.on('connect', writeNext);
    });
    expect(result.id).to.equal(7);
    expect(result.answers?.[0]).to.include({ data: '127.77.0.1' });
  });

  it('closes a TCP connection that sends a malformed message, and still serves others', async () => {
    const { closed, replies } = await tcpExchange(responder.port, frame(Buffer.from([9, 9, 9, 9])), 1);
    expect(closed).to.equal(true);
    expect(replies).to.have.length(0);
    const next = await tcpExchange(responder.port, frame(encode(query('web.shop.plexus'))), 1);
    expect(next.replies[0]?.answers?.[0]).to.include({ data: '127.77.0.1' });
  });

  it('closes an idle TCP connection', async () => {
    const { closed } = await tcpExchange(responder.port, Buffer.from([0]), 1);
    expect(closed).to.equal(true);
  });
});

describe('DNS responder: own names in local mode', () => {
  it('answers <svc>.<ns>.svc.cluster.local of a plexus.dev/own-names Service (or namespace) with its VIP, and nothing else in that zone', async () => {
    const config = compileObjects([
      namespace('shop', { 'plexus.dev/mesh': 'true', 'plexus.dev/own-names': 'true' }),
      service('web', { annotations: {} }),
      service('cart', { annotations: { 'plexus.dev/own-names': 'false' } }),
      service('api', { namespace: 'billing', annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/own-names': 'true' } }),
    ], { listenerPorts: null, vipCidr: '127.77.0.0/24' });
    expect(config.ownNames).to.deep.equal(['billing/api', 'shop/web']);
    const responder = new DnsResponder({ address: ADDRESS, port: 0, domain: 'plexus' });
    await responder.start();
    try {
      responder.setTables(dnsTablesFromConfig(config));
      const vipOf = (key: string): string | null | undefined => config.services.find((s) => s.key === key)?.vip;
      const web = await udpExchange(responder.port, encode(query('web.shop.svc.cluster.local')));
      expect(web?.answers?.[0]).to.include({ type: 'A', data: vipOf('shop/web') });
      const api = await udpExchange(responder.port, encode(query('api.billing.svc.cluster.local')));
      expect(api?.answers?.[0]).to.include({ type: 'A', data: vipOf('billing/api') });
      expect((await udpExchange(responder.port, encode(query('cart.shop.svc.cluster.local'))))?.rcode).to.equal('NXDOMAIN');
      expect((await udpExchange(responder.port, encode(query('cart.shop.plexus'))))?.answers?.[0]).to.include({ data: vipOf('shop/cart') });
      expect((await udpExchange(responder.port, encode(query('example.org'))))?.rcode).to.equal('REFUSED');
    } finally {
      await responder.stop();
    }
  });
});
