import { expect } from 'chai';
import { applyPatch, PatchError, type JsonObject } from '../../fake-apiserver/patch.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from '../../fake-apiserver/selectors.js';

describe('fake API server: selectors', () => {
  it('parses and matches every label operator', () => {
    const labels = { app: 'web', tier: 'front' };
    const match = (text: string): boolean => matchesLabels(parseLabelSelector(text), labels);
    expect(match('app=web,tier==front')).to.equal(true);
    expect(match('app!=web')).to.equal(false);
    expect(match('app in (api, web),tier notin (back)')).to.equal(true);
    expect(match('missing')).to.equal(false);
    expect(match('!missing,app')).to.equal(true);
    expect(match('')).to.equal(true);
  });

  it('rejects malformed selectors and unsupported fields', () => {
    expect(() => parseLabelSelector('app in web')).to.throw(SelectorError);
    expect(() => parseLabelSelector('-bad=x')).to.throw(SelectorError);
    expect(() => parseFieldSelector('spec.nodeName=a', 'Service')).to.throw(SelectorError, 'field label not supported');
    const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'n1' } };
    expect(matchesFields(parseFieldSelector('spec.nodeName=n1,metadata.namespace!=x', 'Pod'), pod)).to.equal(true);
  });
});

describe('fake API server: patches', () => {
  const base: JsonObject = { metadata: { name: 'x', labels: { a: '1' } }, spec: { ports: [{ port: 80, name: 'http' }, { port: 90, name: 'grpc' }], list: [1, 2] } };

  it('applies JSON patch move, copy and test, and fails a missing path', () => {
    const patched = applyPatch(base, [
      { op: 'copy', from: '/metadata/labels/a', path: '/metadata/labels/b' },
      { op: 'move', from: '/spec/list/0', path: '/spec/list/-' },
      { op: 'test', path: '/spec/list', value: [2, 1] },
    ], 'application/json-patch+json');
    expect(patched.metadata).to.deep.equal({ name: 'x', labels: { a: '1', b: '1' } });
    expect(() => applyPatch(base, [{ op: 'remove', path: '/nope' }], 'application/json-patch+json')).to.throw(PatchError);
    expect(base.spec).to.deep.include({ list: [1, 2] });
  });

  it('merges Service ports by port in a strategic merge patch and honours $patch: delete', () => {
    const patched = applyPatch(base, { spec: { ports: [{ port: 90, $patch: 'delete' }, { port: 100, name: 'new' }], list: [3] } }, 'application/strategic-merge-patch+json');
    expect(patched.spec).to.deep.equal({ ports: [{ port: 80, name: 'http' }, { port: 100, name: 'new' }], list: [3] });
  });

  it('honours the directives kubectl apply sends: $setElementOrder, $retainKeys, $deleteFromPrimitiveList', () => {
    // What `kubectl apply` sends for a Service whose ports were reordered and one renamed.
    const applied = applyPatch(base, {
      spec: { '$setElementOrder/ports': [{ port: 90 }, { port: 80 }], ports: [{ port: 80, name: 'web' }] },
    }, 'application/strategic-merge-patch+json');
    expect(applied.spec).to.deep.include({ ports: [{ port: 90, name: 'grpc' }, { port: 80, name: 'web' }] });
    const retained = applyPatch(base, { spec: { $retainKeys: ['ports'], ports: [{ port: 100 }] } }, 'application/strategic-merge-patch+json');
    expect(retained.spec).to.deep.equal({ ports: [{ port: 80, name: 'http' }, { port: 90, name: 'grpc' }, { port: 100 }] });
    expect(() => applyPatch(base, { spec: { $retainKeys: ['list'], ports: [] } }, 'application/strategic-merge-patch+json')).to.throw(PatchError, 'retainKeys');
    const removed = applyPatch(base, { spec: { '$deleteFromPrimitiveList/list': [1] } }, 'application/strategic-merge-patch+json');
    expect(removed.spec).to.deep.include({ list: [2] });
    expect(() => applyPatch(base, { $unknown: 1 }, 'application/strategic-merge-patch+json')).to.throw(PatchError);
  });
});
