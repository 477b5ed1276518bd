import { expect } from 'chai';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import type { SourceIdentity } from '../../../src/routing/mesh-config.js';
import { createRootCa } from '../../../src/secure/ca.js';
import { authorizeIssuance, IssuanceRefusedError, LocalIssuer, podsOfNode, type PodsByNode } from '../../../src/secure/issuer.js';
import type { IssuanceOutcome, SecureMetrics } from '../../../src/secure/metrics.js';

const podsByNode: PodsByNode = new Map([
  ['node-a', [{ namespace: 'shop', pod: 'web-1', serviceAccount: 'web' }, { namespace: 'shop', pod: 'api-1', serviceAccount: 'api' }]],
  ['node-b', [{ namespace: 'bank', pod: 'vault-1', serviceAccount: 'vault' }]],
]);

describe('secure/issuer', () => {
  describe('authorizeIssuance', () => {
    it('grants the ServiceAccounts of pods on the requesting node and its own agent identity', () => {
      const decision = authorizeIssuance({ requesterNode: 'node-a', requested: ['shop/web', 'shop/api', 'node/node-a'], podsByNode });
      expect(decision.granted).to.deep.equal(['shop/web', 'shop/api', 'node/node-a']);
      expect(decision.refused).to.deep.equal([]);
    });

    it('refuses identities of other nodes, other agents, and garbage', () => {
      const decision = authorizeIssuance({
        requesterNode: 'node-a',
        requested: ['shop/web', 'bank/vault', 'node/node-b', 'shop', 'bank/vault/x'],
        podsByNode,
      });
      expect(decision.granted).to.deep.equal(['shop/web']);
      expect(decision.refused.map((r) => r.identity)).to.deep.equal(['bank/vault', 'node/node-b', 'shop', 'bank/vault/x']);
      expect(decision.refused[0]!.reason).to.equal('no pod with ServiceAccount bank/vault runs on node node-a');
    });

    it('refuses everything for a node without pods', () => {
      const decision = authorizeIssuance({ requesterNode: 'node-z', requested: ['shop/web'], podsByNode });
      expect(decision.granted).to.deep.equal([]);
      expect(decision.refused).to.have.length(1);
    });
  });

  describe('LocalIssuer', () => {
    const ca = createRootCa('cluster.local');
    const identities: SourceIdentity[] = [{ ip: '10.0.0.5', namespace: 'shop', pod: 'web-1', serviceAccount: 'web' }];

    function setup(): { issuer: LocalIssuer; logs: string[]; outcomes: [string, IssuanceOutcome][] } {
      const logs: string[] = [];
      const outcomes: [string, IssuanceOutcome][] = [];
      const sink = new Writable({ write(chunk: Buffer, _enc, done) { logs.push(chunk.toString()); done(); } });
      const metrics: SecureMetrics = {
        certificateExpiry() {}, authorization() {}, tunnelConnection() {},
        certificateIssuance: (identity, outcome) => outcomes.push([identity, outcome]),
      };
      const issuer = new LocalIssuer({ nodeName: 'node-a', ca: () => ca, identities: () => identities, logger: pino(sink), metrics });
      return { issuer, logs, outcomes };
    }

    it('issues for pods of its node and for itself', async () => {
      const { issuer, outcomes } = setup();
      expect((await issuer.issue('shop/web')).spiffeId).to.equal('spiffe://cluster.local/ns/shop/sa/web');
      expect((await issuer.issue('node/node-a')).spiffeId).to.equal('spiffe://cluster.local/plexus/node/node-a');
      expect(outcomes).to.deep.equal([['shop/web', 'issued'], ['node/node-a', 'issued']]);
    });

    it('refuses and logs an identity not on its node', async () => {
      const { issuer, logs, outcomes } = setup();
      let error: unknown;
      await issuer.issue('bank/vault').catch((err: unknown) => { error = err; });
      expect(error).to.be.instanceOf(IssuanceRefusedError);
      expect(outcomes).to.deep.equal([['bank/vault', 'refused']]);
      expect(logs).to.have.length(1);
      expect(JSON.parse(logs[0]!)).to.include({ identity: 'bank/vault', node: 'node-a', msg: 'certificate request refused' });
    });
  });

  it('podsOfNode turns the MeshConfig identities into placements', () => {
    const pods = podsOfNode('n1', [{ ip: '10.0.0.5', namespace: 'shop', pod: 'web-1', serviceAccount: 'web' }]);
    expect([...pods]).to.deep.equal([['n1', [{ namespace: 'shop', pod: 'web-1', serviceAccount: 'web' }]]]);
  });
});
