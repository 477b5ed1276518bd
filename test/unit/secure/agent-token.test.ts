import { expect } from 'chai';
import { requesterNode, tokenClaims, type AgentPod } from '../../../src/issuer/agent-token.js';
import { peersFromAgentPods } from '../../../src/secure/cluster/agent-peers.js';
import { meshRunsSecure } from '../../../src/secure/cluster/agent-pods.js';
import { MalformedRequestError, parseRequest, encodeRequest } from '../../../src/secure/cluster/issuance-protocol.js';
import { generateKeyPair } from '../../../src/secure/x509.js';
import { generateKeyPairSync } from 'node:crypto';

const account = { namespace: 'plexus', serviceAccount: 'plexus-agent' };
const agentUser = (extra: Record<string, string[]>) => ({ authenticated: true, user: { username: 'system:serviceaccount:plexus:plexus-agent', extra } });
const bound = { 'authentication.kubernetes.io/pod-name': ['agent-a'], 'authentication.kubernetes.io/pod-uid': ['uid-a'] };
const pod: AgentPod = {
  uid: 'uid-a', serviceAccountName: 'plexus-agent', nodeName: 'node-a', phase: 'Running',
  labels: { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/component': 'agent' },
};

describe('issuer/agent-token: who is asking (TokenReview answer, agent pod)', () => {
  it('an unauthenticated token is refused with the review error', () => {
    const claims = tokenClaims({ error: 'invalid bearer token' }, account);
    expect(claims).to.deep.equal({ ok: false, reason: 'token not authenticated (invalid bearer token)' });
  });

  it('a token of another ServiceAccount, or not bound to a pod, is refused', () => {
    const other = tokenClaims({ authenticated: true, user: { username: 'system:serviceaccount:shop:web', extra: bound } }, account);
    expect(other.ok).to.equal(false);
    expect(tokenClaims(agentUser({}), account)).to.deep.include({ ok: false });
  });

  it('a pod-bound agent token gives the pod; the node comes from the pod, checked against the token', () => {
    const claims = tokenClaims(agentUser(bound), account);
    if (!claims.ok) throw new Error(claims.reason);
    expect(claims.value).to.deep.equal({ podName: 'agent-a', podUid: 'uid-a', nodeName: null });
    expect(requesterNode(claims.value, pod, account)).to.deep.equal({ ok: true, value: 'node-a' });
    const withNode = { ...claims.value, nodeName: 'node-b' };
    expect(requesterNode(withNode, pod, account)).to.deep.include({ ok: false });
  });

  it('a missing, replaced, unlabelled, foreign-account, terminated or unscheduled pod is refused', () => {
    const claims = { podName: 'agent-a', podUid: 'uid-a', nodeName: null };
    const cases: [AgentPod | null, RegExp][] = [
      [null, /does not exist/],
      [{ ...pod, uid: 'uid-new' }, /was replaced/],
      [{ ...pod, labels: {} }, /not an agent pod/],
      [{ ...pod, serviceAccountName: 'default' }, /runs as default/],
      [{ ...pod, phase: 'Failed' }, /terminated/],
      [{ ...pod, nodeName: '' }, /not scheduled/],
    ];
    for (const [candidate, reason] of cases) {
      const result = requesterNode(claims, candidate, account);
      expect(result.ok).to.equal(false);
      if (!result.ok) expect(result.reason).to.match(reason);
    }
  });
});

describe('secure/cluster/agent-peers: node → agent pod IP', () => {
  const agentPod = (name: string, node: string, ip: string, ready: boolean, created: string, more: { secure?: string; deleting?: boolean } = {}) => ({
    metadata: {
      name, creationTimestamp: created,
      ...(more.secure === undefined ? {} : { annotations: { 'plexus.dev/secure': more.secure } }),
      ...(more.deleting ? { deletionTimestamp: '2026-01-03T00:00:00Z' } : {}),
    },
    spec: { nodeName: node },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const secure = { secure: 'true' };

  it('maps each node to its agent pod, preferring a ready one, then the newest (rolling update)', () => {
    const peers = peersFromAgentPods([
      agentPod('a', 'node-a', '10.0.0.1', true, '2026-01-01T00:00:00Z', secure),
      agentPod('b-old', 'node-b', '10.0.1.1', true, '2026-01-01T00:00:00Z', secure),
      agentPod('b-new', 'node-b', '10.0.1.2', false, '2026-01-02T00:00:00Z', secure),
      agentPod('c-old', 'node-c', '10.0.2.1', true, '2026-01-01T00:00:00Z', secure),
      agentPod('c-new', 'node-c', '10.0.2.2', true, '2026-01-02T00:00:00Z', secure),
      { metadata: { name: 'pending' }, spec: { nodeName: 'node-d' }, status: { phase: 'Pending' } },
    ], 15008);
    expect(Object.fromEntries(peers)).to.deep.equal({
      'node-a': { host: '10.0.0.1', port: 15008 },
      'node-b': { host: '10.0.1.1', port: 15008 },
      'node-c': { host: '10.0.2.2', port: 15008 },
    });
  });

  it('a stopping agent (still draining) comes after a ready one and before one not ready yet', () => {
    const peers = peersFromAgentPods([
      agentPod('a-old', 'node-a', '10.0.0.1', true, '2026-01-01T00:00:00Z', { ...secure, deleting: true }),
      agentPod('a-new', 'node-a', '10.0.0.2', true, '2026-01-02T00:00:00Z', secure),
      agentPod('b-old', 'node-b', '10.0.1.1', false, '2026-01-01T00:00:00Z', { ...secure, deleting: true }),
      agentPod('b-new', 'node-b', '10.0.1.2', false, '2026-01-02T00:00:00Z', secure),
    ], 15008);
    expect(Object.fromEntries(peers)).to.deep.equal({ 'node-a': { host: '10.0.0.2', port: 15008 }, 'node-b': { host: '10.0.1.1', port: 15008 } });
  });

  it('an agent whose pod does not say plexus.dev/secure=true runs plain mode: no tunnel to it (switching secure mode)', () => {
    const peers = peersFromAgentPods([
      agentPod('a', 'node-a', '10.0.0.1', true, '2026-01-01T00:00:00Z', { secure: 'false' }),
      agentPod('b', 'node-b', '10.0.1.1', true, '2026-01-01T00:00:00Z'),
      agentPod('c', 'node-c', '10.0.2.1', true, '2026-01-01T00:00:00Z', secure),
    ], 15008);
    expect(Object.fromEntries(peers)).to.deep.equal({
      'node-a': { host: '10.0.0.1', port: 15008, plain: true },
      'node-b': { host: '10.0.1.1', port: 15008, plain: true },
      'node-c': { host: '10.0.2.1', port: 15008 },
    });
  });

  it('the mesh runs secure mode while any agent pod that has not finished says so, stopping or not ready included', () => {
    const plain = agentPod('a', 'node-a', '10.0.0.1', true, '2026-01-01T00:00:00Z', { secure: 'false' });
    expect(meshRunsSecure([])).to.equal(false);
    expect(meshRunsSecure([plain])).to.equal(false);
    expect(meshRunsSecure([plain, agentPod('b', 'node-b', '10.0.1.1', false, '2026-01-02T00:00:00Z', secure)])).to.equal(true);
    expect(meshRunsSecure([plain, agentPod('b', 'node-b', '10.0.1.1', true, '2026-01-02T00:00:00Z', { ...secure, deleting: true })])).to.equal(true);
    const finished = { ...agentPod('b', 'node-b', '10.0.1.1', false, '2026-01-02T00:00:00Z', secure), status: { phase: 'Failed' } };
    expect(meshRunsSecure([plain, finished])).to.equal(false);
  });
});

describe('secure/cluster/issuance-protocol', () => {
  it('round-trips a request with an EC P-256 public key', () => {
    const { publicKey } = generateKeyPair();
    const [parsed] = parseRequest(encodeRequest([{ identity: 'shop/web', publicKey }]));
    expect(parsed!.identity).to.equal('shop/web');
    expect(parsed!.publicKey.equals(publicKey)).to.equal(true);
  });

  it('refuses malformed requests and keys of another kind', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    for (const body of ['nope', '{}', '{"requests":[]}', '{"requests":[{"identity":"a/b"}]}', encodeRequest([{ identity: 'a/b', publicKey: rsa }])]) {
      expect(() => parseRequest(body), body).to.throw(MalformedRequestError);
    }
  });
});
