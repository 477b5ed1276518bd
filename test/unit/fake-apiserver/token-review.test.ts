import { AuthenticationV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { kubeconfigFor } from '../../fake-apiserver/kubeconfig.js';
import { FakeApiServer } from '../../fake-apiserver/server.js';
import { statusOf } from './support.js';

describe('fake API server: TokenReview', () => {
  let server: FakeApiServer;
  let api: AuthenticationV1Api;
  const agent = {
    username: 'system:serviceaccount:plexus:plexus-agent',
    uid: 'sa-uid',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:plexus', 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/pod-name': ['plexus-agent-a'], 'authentication.kubernetes.io/node-name': ['node-a'] },
  };

  before(async () => {
    server = new FakeApiServer();
    await server.start();
    api = kubeconfigFor(server).makeApiClient(AuthenticationV1Api);
    server.tokens.register('good', agent);
    server.tokens.register('issuer-only', agent, ['plexus-issuer']);
  });
  after(() => server.stop());

  it('a registered token authenticates as its user, for the API server audience by default', async () => {
    const review = await api.createTokenReview({ body: { spec: { token: 'good' } } });
    expect(review.status?.authenticated).to.equal(true);
    expect(review.status?.user?.username).to.equal(agent.username);
    expect(review.status?.user?.extra?.['authentication.kubernetes.io/pod-name']).to.deep.equal(['plexus-agent-a']);
    expect(review.status?.audiences).to.deep.equal(['https://kubernetes.default.svc.cluster.local']);
  });

  it('an unknown token is not authenticated and names an error', async () => {
    const review = await api.createTokenReview({ body: { spec: { token: 'forged' } } });
    expect(review.status?.authenticated).not.to.equal(true);
    expect(review.status?.user?.username).to.equal(undefined);
    expect(review.status?.error).to.match(/invalid bearer token/);
  });

  it('audiences must match: a dedicated-audience token fails for the API server and passes for its audience', async () => {
    expect((await api.createTokenReview({ body: { spec: { token: 'issuer-only' } } })).status?.authenticated).not.to.equal(true);
    const review = await api.createTokenReview({ body: { spec: { token: 'issuer-only', audiences: ['plexus-issuer', 'other'] } } });
    expect(review.status?.authenticated).to.equal(true);
    expect(review.status?.audiences).to.deep.equal(['plexus-issuer']);
  });

  it('a revoked token stops authenticating; an empty token is 400', async () => {
    server.tokens.register('short-lived', agent);
    server.tokens.revoke('short-lived');
    expect((await api.createTokenReview({ body: { spec: { token: 'short-lived' } } })).status?.authenticated).not.to.equal(true);
    expect((await statusOf(() => api.createTokenReview({ body: { spec: { token: '' } } }))).code).to.equal(400);
  });
});
