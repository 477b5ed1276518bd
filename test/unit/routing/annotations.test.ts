import { expect } from 'chai';
import { parseDurationMs } from '../../../src/routing/duration.js';
import { compileObjects, findPort, findService, namespace, problemsOf, service } from './builders.js';

describe('routing: meshed Services and annotations', () => {
  it('meshes a Service by its own annotation', () => {
    const config = compileObjects([service('web'), service('db', { annotations: {} })]);
    expect(config.services.map((s) => s.key)).to.deep.equal(['shop/web']);
    expect(config.problems).to.deep.equal([]);
  });

  it('meshes every Service of an annotated Namespace, except those opting out', () => {
    const config = compileObjects([
      namespace('shop', { 'plexus.dev/mesh': 'true' }),
      service('web', { annotations: {} }),
      service('legacy', { annotations: { 'plexus.dev/mesh': 'false' } }),
      service('other', { namespace: 'elsewhere', annotations: {} }),
    ]);
    expect(config.services.map((s) => s.key)).to.deep.equal(['shop/web']);
  });

  it('reports a mesh value that is not "true" or "false" and falls back to the namespace', () => {
    const config = compileObjects([
      namespace('shop', { 'plexus.dev/mesh': 'yes' }),
      service('web', { annotations: { 'plexus.dev/mesh': 'on' } }),
    ]);
    expect(config.services).to.deep.equal([]);
    expect(problemsOf(config, 'Service', 'web')).to.deep.equal(['plexus.dev/mesh: "on" is not "true" or "false" (ignored)']);
    expect(problemsOf(config, 'Namespace', 'shop')).to.have.length(1);
  });

  it('reads unquoted YAML numbers and booleans as text, with a warning', () => {
    const raw = service('web', { annotations: {} }) as { metadata: Record<string, unknown> };
    raw.metadata.annotations = { 'plexus.dev/mesh': true, 'plexus.dev/retry-attempts': 3, 'other.io/x': 1 };
    const config = compileObjects([raw]);
    expect(findService(config, 'shop/web').policy.retryAttempts).to.equal(3);
    expect(problemsOf(config, 'Service', 'web')).to.deep.equal([
      'plexus.dev/mesh: true is not a string; read as "true" (quote it: Kubernetes rejects it as is)',
      'plexus.dev/retry-attempts: 3 is not a string; read as "3" (quote it: Kubernetes rejects it as is)',
    ]);
  });

  it('skips headless and ExternalName Services with a warning', () => {
    const config = compileObjects([
      service('headless', { clusterIP: 'None' }),
      service('external', { type: 'ExternalName' }),
    ]);
    expect(config.services).to.deep.equal([]);
    expect(config.problems.map((p) => [p.name, p.severity])).to.deep.equal([['external', 'warning'], ['headless', 'warning']]);
  });

  it('warns about unknown plexus.dev annotations, meshed or not', () => {
    const config = compileObjects([
      service('web', { annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/retries': '3' } }),
      service('db', { annotations: { 'plexus.dev/mehs': 'true' } }),
    ]);
    expect(problemsOf(config, 'Service', 'web')).to.deep.equal(['unknown annotation plexus.dev/retries (ignored; see docs/annotations.md)']);
    expect(problemsOf(config, 'Service', 'db')).to.deep.equal(['unknown annotation plexus.dev/mehs (ignored; see docs/annotations.md)']);
  });

  it('reads traffic type and scheme per port; UDP ports are udp', () => {
    const config = compileObjects([
      service('web', { annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/scheme': 'h2c' } }),
      service('db', { annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/traffic-type': 'tcp' }, ports: [{ port: 5432 }] }),
      service('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    ]);
    expect(findPort(config, 'shop/web')).to.include({ trafficType: 'http', scheme: 'h2c', protocol: 'TCP' });
    expect(findPort(config, 'shop/db', 5432)).to.include({ trafficType: 'tcp' });
    expect(findPort(config, 'shop/dns', 53)).to.include({ trafficType: 'udp', protocol: 'UDP' });
    expect(config.problems).to.deep.equal([]);
  });

  it('a port whose appProtocol is kubernetes.io/h2c, h2c or grpc is h2c; the other ports follow the annotation', () => {
    const config = compileObjects([
      service('echo', {
        ports: [
          { name: 'http', port: 80, appProtocol: 'http' }, { name: 'grpc', port: 7070, appProtocol: 'kubernetes.io/h2c' },
          { name: 'g2', port: 7071, appProtocol: 'grpc' }, { name: 'g3', port: 7072, appProtocol: 'h2c' }, { name: 'plain', port: 8080 },
        ],
      }),
      service('bad', { ports: [{ name: 'x', port: 80, appProtocol: 7 }] }),
    ]);
    expect([80, 7070, 7071, 7072, 8080].map((port) => findPort(config, 'shop/echo', port).scheme)).to.deep.equal(['http', 'h2c', 'h2c', 'h2c', 'http']);
    expect(problemsOf(config, 'Service', 'bad')).to.include('spec.ports[0].appProtocol is not a string');
  });

  it('reports a traffic type that does not fit the port protocol', () => {
    const config = compileObjects([
      service('mixed', {
        annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/traffic-type': 'udp' },
        ports: [{ name: 'a', port: 80 }, { name: 'b', port: 53, protocol: 'UDP' }],
      }),
    ]);
    expect(findPort(config, 'shop/mixed', 80).trafficType).to.equal('http');
    expect(findPort(config, 'shop/mixed', 53).trafficType).to.equal('udp');
    expect(problemsOf(config, 'Service', 'mixed')).to.deep.equal(['port 80/TCP: plexus.dev/traffic-type "udp" does not fit a TCP port (http applies)']);
  });

  it('skips SCTP ports with a problem', () => {
    const config = compileObjects([service('sig', { ports: [{ name: 'a', port: 80 }, { name: 's', port: 3868, protocol: 'SCTP' }] })]);
    expect(findService(config, 'shop/sig').ports.map((p) => p.port)).to.deep.equal([80]);
    expect(problemsOf(config, 'Service', 'sig')).to.deep.equal(['port 3868/SCTP: SCTP is not supported (port skipped)']);
  });

  it('reports bad traffic-type and scheme values and applies the defaults', () => {
    const config = compileObjects([service('web', { annotations: { 'plexus.dev/mesh': 'true', 'plexus.dev/traffic-type': 'grpc', 'plexus.dev/scheme': 'https' } })]);
    expect(findPort(config, 'shop/web')).to.include({ trafficType: 'http', scheme: 'http' });
    expect(problemsOf(config, 'Service', 'web')).to.have.length(2);
  });

  describe('policies', () => {
    const policyOf = (annotations: Record<string, string>) => {
      const config = compileObjects([service('web', { annotations: { 'plexus.dev/mesh': 'true', ...annotations } })]);
      return { policy: findService(config, 'shop/web').policy, problems: problemsOf(config, 'Service', 'web') };
    };

    it('has defaults: no retries, no timeout, round-robin, no breaker, no rate limit', () => {
      expect(policyOf({}).policy).to.deep.equal({ retryAttempts: 0, timeoutMs: 0, loadBalancer: 'round-robin', circuitBreaker: null, rateLimit: null });
    });

    it('reads every policy annotation', () => {
      const { policy, problems } = policyOf({
        'plexus.dev/retry-attempts': '3', 'plexus.dev/timeout': '1m30s', 'plexus.dev/load-balancer': 'least-request',
        'plexus.dev/circuit-breaker-consecutive-errors': '5', 'plexus.dev/circuit-breaker-ejection': '10s',
        'plexus.dev/rate-limit-average': '2.5', 'plexus.dev/rate-limit-burst': '7',
      });
      expect(problems).to.deep.equal([]);
      expect(policy).to.deep.equal({
        retryAttempts: 3, timeoutMs: 90_000, loadBalancer: 'least-request',
        circuitBreaker: { consecutiveErrors: 5, ejectionMs: 10_000 }, rateLimit: { average: 2.5, burst: 7 },
      });
    });

    it('defaults the ejection to 30s and the burst to ceil(average)', () => {
      const { policy } = policyOf({ 'plexus.dev/circuit-breaker-consecutive-errors': '1', 'plexus.dev/rate-limit-average': '2.5' });
      expect(policy.circuitBreaker).to.deep.equal({ consecutiveErrors: 1, ejectionMs: 30_000 });
      expect(policy.rateLimit).to.deep.equal({ average: 2.5, burst: 3 });
      expect(policyOf({ 'plexus.dev/rate-limit-average': '0.2' }).policy.rateLimit).to.deep.equal({ average: 0.2, burst: 1 });
    });

    const bad: [string, string][] = [
      ['plexus.dev/retry-attempts', '11'], ['plexus.dev/retry-attempts', '-1'], ['plexus.dev/retry-attempts', 'two'], ['plexus.dev/retry-attempts', '1.5'],
      ['plexus.dev/timeout', '0s'], ['plexus.dev/timeout', '5'], ['plexus.dev/timeout', '-2s'], ['plexus.dev/timeout', '2 s'],
      ['plexus.dev/load-balancer', 'random'],
      ['plexus.dev/circuit-breaker-consecutive-errors', '0'],
      ['plexus.dev/rate-limit-average', '0'], ['plexus.dev/rate-limit-average', 'fast'],
    ];
    for (const [key, value] of bad) {
      it(`reports ${key}: "${value}" and applies the default`, () => {
        const { policy, problems } = policyOf({ [key]: value });
        expect(problems).to.have.length(1);
        expect(problems[0]).to.match(new RegExp(`^${key}: "${value}" is not .*\\(default applies\\)$`));
        expect(policy).to.deep.equal({ retryAttempts: 0, timeoutMs: 0, loadBalancer: 'round-robin', circuitBreaker: null, rateLimit: null });
      });
    }

    it('reports a bad ejection or burst and keeps the rest of the policy', () => {
      const { policy, problems } = policyOf({
        'plexus.dev/circuit-breaker-consecutive-errors': '3', 'plexus.dev/circuit-breaker-ejection': 'soon',
        'plexus.dev/rate-limit-average': '10', 'plexus.dev/rate-limit-burst': '0',
      });
      expect(problems).to.have.length(2);
      expect(policy.circuitBreaker).to.deep.equal({ consecutiveErrors: 3, ejectionMs: 30_000 });
      expect(policy.rateLimit).to.deep.equal({ average: 10, burst: 10 });
    });

    it('warns when an ejection or burst comes without its main annotation', () => {
      const { policy, problems } = policyOf({ 'plexus.dev/circuit-breaker-ejection': '5s', 'plexus.dev/rate-limit-burst': '5' });
      expect(policy.circuitBreaker).to.equal(null);
      expect(policy.rateLimit).to.equal(null);
      expect(problems).to.have.length(2);
    });

    it('does not report policy values of a Service that is not meshed', () => {
      const config = compileObjects([service('web', { annotations: { 'plexus.dev/timeout': 'never' } })]);
      expect(config.problems).to.deep.equal([]);
    });
  });

  describe('Go durations', () => {
    const cases: [string, number | null][] = [
      ['2s', 2000], ['500ms', 500], ['1m30s', 90_000], ['1.5s', 1500], ['1h', 3_600_000], ['250us', 0.25], ['100µs', 0.1],
      ['1000000ns', 1], ['.5s', 500], ['0', 0], ['', null], ['5', null], ['2x', null], ['s', null], ['1s2', null], ['-1s', null], ['1.2.3s', null],
    ];
    for (const [text, ms] of cases) {
      it(`"${text}" → ${ms}`, () => expect(parseDurationMs(text)).to.equal(ms));
    }
  });
});
