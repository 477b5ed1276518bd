import { expect } from 'chai';
import { pino } from 'pino';
import type { Endpoint } from '../../../src/routing/mesh-config.js';
import { DEFAULT_PATH_POLICY } from '../../../src/node-agent/http/request-target.js';
import { DestinationPolicy } from '../../../src/secure/destination.js';
import { NO_METRICS } from '../../../src/secure/metrics.js';
import { backend, backends, endpoint, meshConfig, meshPort, meshService } from '../runtime/fixtures.js';

const logger = pino({ level: 'silent' });

/** node-a's config: shop/db (TCP 5432) with one pod here and one on node-b; shop/dns (UDP). */
function config(sources: readonly string[]) {
  const here: Endpoint = endpoint('10.1.0.5', 5432);
  const there: Endpoint = { ...endpoint('10.2.0.5', 5432), nodeName: 'node-b' };
  const db = meshService('shop/db', [meshPort({
    port: 5432, trafficType: 'tcp', destination: backends([backend('shop/db', 1, [here, there])]),
    access: [{ trafficTarget: 'shop/db-access', sources, http: null }],
  })]);
  const dns = meshService('shop/dns', [meshPort({ port: 53, trafficType: 'udp', destination: backends([backend('shop/dns', 1, [endpoint('10.1.0.6', 53)])]) })]);
  return meshConfig([db, dns]);
}

describe('secure/DestinationPolicy', () => {
  const policy = (acl: boolean, sources: readonly string[] = ['shop/api']): DestinationPolicy => {
    const built = new DestinationPolicy({ nodeName: 'node-a', acl, paths: DEFAULT_PATH_POLICY, logger, metrics: NO_METRICS });
    built.setConfig(config(sources));
    return built;
  };
  const db = { host: '10.1.0.5', port: 5432, service: 'shop/db:5432/TCP' };

  it('grants a TCP stream to the identity a TrafficTarget lists, and refuses others', () => {
    const p = policy(true);
    expect(p.authorize('shop/api', db)).to.include({ allowed: true, destination: 'shop/db:5432/TCP' });
    expect(p.authorize('shop/intruder', db).allowed).to.equal(false);
    expect(p.authorize(null, db).allowed).to.equal(false);
    p.close();
  });

  it('follows TrafficTarget changes at once', () => {
    const p = policy(true);
    p.setConfig(config(['shop/other']));
    expect(p.authorize('shop/api', db).allowed).to.equal(false);
    p.close();
  });

  it('is no open relay: refuses endpoints of other nodes, addresses outside the port, unknown ports and UDP', () => {
    const p = policy(false);
    expect(p.authorize('shop/api', { ...db, host: '10.2.0.5' }).reason).to.match(/not an endpoint of shop\/db:5432\/TCP on node node-a/);
    expect(p.authorize('shop/api', { ...db, host: '127.0.0.1', port: 22 }).allowed).to.equal(false);
    expect(p.authorize('shop/api', { ...db, service: null }).allowed).to.equal(false);
    expect(p.authorize('shop/api', { ...db, service: 'shop/db:9999/TCP' }).allowed).to.equal(false);
    expect(p.authorize('shop/api', { host: '10.1.0.6', port: 53, service: 'shop/dns:53/UDP' }).allowed).to.equal(false);
    p.close();
  });

  it('without ACL mode lets any verified identity reach a local pod', () => {
    const p = policy(false);
    expect(p.authorize('shop/anyone', db).allowed).to.equal(true);
    p.close();
  });
});
