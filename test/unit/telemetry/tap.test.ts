import { expect } from 'chai';
import { parseTapQuery } from '../../../src/node-agent/admin/tap-endpoint.js';
import { TapHub, TapSubscriber, matches, type TapFilter, type TapSink } from '../../../src/node-agent/telemetry/tap.js';
import type { RequestRecord } from '../../../src/node-agent/telemetry/types.js';

function record(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    protocol: 'http', sourceNamespace: 'shop', sourceIdentity: 'shop/front', sourceIp: '10.0.0.1', destinationNamespace: 'shop',
    destinationService: 'web', destinationPort: 8080, backend: 'shop/web-v1', endpoint: '10.0.0.9:8080', method: 'GET', path: '/cart',
    status: 200, durationSeconds: 0.0123, retries: 0, reason: '', requestId: 'secret-request-id', traceId: 'abc', ...overrides,
  };
}

const ANY: TapFilter = { namespace: null, service: null, method: null, from: null };

class MemorySink implements TapSink {
  text = '';
  full = false;
  #resume: (() => void) | null = null;
  write(text: string): boolean {
    this.text += text;
    return !this.full;
  }
  onDrain(resume: () => void): void {
    this.#resume = resume;
  }
  drain(): void {
    this.full = false;
    this.#resume?.();
  }
  lines(): Array<Record<string, unknown>> {
    return this.text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

describe('telemetry: tap', () => {
  it('matches by namespace, Service, method and source identity (unknown for a caller that is not a pod)', () => {
    expect(matches({ ...ANY, namespace: 'shop', service: 'web' }, record())).to.equal(true);
    expect(matches({ ...ANY, namespace: 'shop', service: 'cart' }, record())).to.equal(false);
    expect(matches({ ...ANY, namespace: 'other' }, record())).to.equal(false);
    expect(matches({ ...ANY, method: 'POST' }, record())).to.equal(false);
    expect(matches({ ...ANY, from: 'unknown' }, record({ sourceIdentity: null }))).to.equal(true);
    expect(matches({ ...ANY, from: 'shop/front' }, record({ sourceIdentity: null }))).to.equal(false);
  });

  it('writes one line per request with no header value or body, and never the query', () => {
    const sink = new MemorySink();
    const subscriber = new TapSubscriber(ANY, 100, sink);
    subscriber.offer(record({ status: 403, reason: 'forbidden', sourceIdentity: null }), 0);
    subscriber.flush(0);
    const [event] = sink.lines();
    expect(event).to.deep.equal({
      type: 'request', protocol: 'http', source: 'unknown', sourceIp: '10.0.0.1', destination: 'shop/web:8080', backend: 'shop/web-v1',
      endpoint: '10.0.0.9:8080', method: 'GET', path: '/cart', status: 403, outcome: 'denied', failed: true, latencyMs: 12.3, reason: 'forbidden',
    });
    expect(sink.text).to.not.contain('secret-request-id');
  });

  it('samples above its rate and says how many it left out', () => {
    const sink = new MemorySink();
    let coin = 0;
    const subscriber = new TapSubscriber(ANY, 10, sink, () => (coin++ % 2 === 0 ? 0 : 0.99));
    for (let i = 0; i < 40; i++) subscriber.offer(record(), 0);
    subscriber.flush(0);
    expect(sink.lines().filter((line) => line.type === 'request')).to.have.length(10);
    expect(sink.lines()[0]).to.deep.equal({ type: 'skipped', sampled: 30, dropped: 0 });
    // The next second keeps the share the last one allowed (10 of 40), at random.
    sink.text = '';
    for (let i = 0; i < 8; i++) subscriber.offer(record(), 1000);
    subscriber.flush(1000);
    expect(sink.lines().filter((line) => line.type === 'request')).to.have.length(4);
  });

  it('stops writing to a reader that does not drain, drops past its queue bound, and resumes on drain', () => {
    const sink = new MemorySink();
    const subscriber = new TapSubscriber(ANY, 1000, sink);
    sink.full = true;
    subscriber.offer(record(), 0);
    subscriber.flush(0);
    const written = sink.text.length;
    for (let second = 1; second <= 3; second++) {
      for (let i = 0; i < 1000; i++) subscriber.offer(record(), second * 1000);
      subscriber.flush(second * 1000);
    }
    expect(sink.text.length).to.equal(written);
    sink.drain();
    subscriber.flush(4000);
    const lines = sink.lines();
    expect(lines.filter((line) => line.type === 'skipped')).to.deep.equal([{ type: 'skipped', sampled: 0, dropped: 2000 }]);
    expect(lines.filter((line) => line.type === 'request')).to.have.length(1 + 1000);
  });

  it('is watching only while it has subscribers, and takes at most 16', () => {
    const hub = new TapHub();
    expect(hub.watching).to.equal(false);
    const subscribers = Array.from({ length: 16 }, () => hub.subscribe(ANY, 10, new MemorySink()));
    expect(hub.watching).to.equal(true);
    expect(hub.full).to.equal(true);
    expect(() => hub.subscribe(ANY, 10, new MemorySink())).to.throw(/at most 16/);
    for (const subscriber of subscribers) hub.unsubscribe(subscriber);
    expect(hub.watching).to.equal(false);
  });

  it('parses a tap query and refuses malformed ones with a reason', () => {
    expect(parseTapQuery(new URLSearchParams('service=shop/web&method=get&from=shop/front&rate=5'))).to.deep.equal({
      ok: true, rate: 5, filter: { namespace: 'shop', service: 'web', method: 'GET', from: 'shop/front' },
    });
    expect(parseTapQuery(new URLSearchParams('namespace=shop'))).to.deep.equal({
      ok: true, rate: 100, filter: { namespace: 'shop', service: null, method: null, from: null },
    });
    expect(parseTapQuery(new URLSearchParams('service=web'))).to.deep.include({ ok: false, error: 'service "web" is not namespace/name' });
    expect(parseTapQuery(new URLSearchParams('service=shop/web&namespace=x'))).to.have.property('ok', false);
    expect(parseTapQuery(new URLSearchParams('rate=0'))).to.have.property('ok', false);
    expect(parseTapQuery(new URLSearchParams('rate=5000'))).to.have.property('ok', false);
    expect(parseTapQuery(new URLSearchParams('from=nobody'))).to.have.property('ok', false);
    expect(parseTapQuery(new URLSearchParams('method=G%20T'))).to.have.property('ok', false);
  });
});
