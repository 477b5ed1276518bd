import { expect } from 'chai';
import { Counter, Histogram, Registry } from 'prom-client';
import { MeshMetrics } from '../../../src/node-agent/telemetry/metrics.js';
import type { RequestRecord } from '../../../src/node-agent/telemetry/types.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ['source_namespace', 'source_identity', 'destination_namespace', 'destination_service', 'destination_port', 'destination_backend', 'status_code', 'outcome'] as const;

function record(sourceNamespace: string, service: string, status: number, durationSeconds: number, reason = ''): RequestRecord {
  return {
    protocol: 'http', sourceNamespace, sourceIdentity: sourceNamespace === '' ? null : `${sourceNamespace}/default`, sourceIp: '10.0.0.1',
    destinationNamespace: 'shop', destinationService: service, destinationPort: 80, backend: null, endpoint: null, method: 'GET', path: '/',
    status, durationSeconds, retries: 0, reason, requestId: 'r', traceId: '',
  };
}

function labelsOf(source: string, service: string, status: number, outcome: string): Record<(typeof LABELS)[number], string> {
  return {
    source_namespace: source, source_identity: source === '' ? 'unknown' : `${source}/default`, destination_namespace: 'shop',
    destination_service: service, destination_port: '80', destination_backend: '', status_code: String(status), outcome,
  };
}

/** The request metrics' lines of an exposition, sorted (series order is not part of the format). */
function requestLines(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('plexus_request')).sort();
}

describe('telemetry: request metrics published at scrape', () => {
  const observations: Array<[string, string, number, number, string, string]> = [
    ['front', 'web', 200, 0.0002, '', 'success'], ['front', 'web', 200, 0.0005, '', 'success'], ['front', 'web', 200, 0.0031, '', 'success'],
    ['', 'web', 503, 12, 'no-endpoint', 'server_error'], ['front', 'api', 200, 0.25, '', 'success'], ['front', 'web', 404, 0.001, '', 'client_error'],
    ['front', 'web', 200, 1, '', 'success'], ['', 'web', 403, 0.0001, 'forbidden', 'denied'], ['front', 'web', 403, 0.002, '', 'client_error'],
    ['front', 'web', 429, 0.0001, 'rate-limited', 'rate_limited'], ['front', 'web', 0, 0.3, '', 'cancelled'],
  ];

  it('exposes exactly what prom-client counters and histograms would for the same requests', async () => {
    const metrics = new MeshMetrics();
    const reference = new Registry();
    const counter = new Counter({ name: 'plexus_requests_total', help: 'x', labelNames: LABELS, registers: [reference] });
    const histogram = new Histogram({ name: 'plexus_request_duration_seconds', help: 'x', labelNames: LABELS, buckets: BUCKETS, registers: [reference] });
    // Two scrapes in between: publishing must neither lose nor double anything.
    for (const [index, [source, service, status, seconds, reason, outcome]] of observations.entries()) {
      metrics.request(record(source, service, status, seconds, reason));
      const labels = labelsOf(source, service, status, outcome);
      counter.inc(labels);
      histogram.observe(labels, seconds);
      if (index === 2 || index === 4) await metrics.registry.metrics();
    }
    expect(requestLines(await metrics.registry.metrics())).to.deep.equal(requestLines(await reference.metrics()));
  });

  it('drops the series of a removed destination and keeps counting the others', async () => {
    const metrics = new MeshMetrics();
    for (const [source, service, status, seconds, reason] of observations) metrics.request(record(source, service, status, seconds, reason));
    await metrics.retainDestinations(new Set(['shop/web']));
    metrics.request(record('front', 'web', 200, 0.0001));
    const lines = requestLines(await metrics.registry.metrics());
    expect(lines.some((line) => line.includes('destination_service="api"'))).to.equal(false);
    const series = 'source_namespace="front",source_identity="front/default",destination_namespace="shop",destination_service="web",destination_port="80",destination_backend="",status_code="200",outcome="success"';
    expect(lines).to.include(`plexus_requests_total{${series}} 5`);
    expect(lines).to.include(`plexus_request_duration_seconds_count{${series}} 5`);
  });
});
