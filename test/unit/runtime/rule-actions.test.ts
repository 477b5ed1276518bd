/** Gateway API filters on the data plane: header edits, path edits, redirect locations, query values. */
import { expect } from 'chai';
import { editFields, editPath, redirectLocation } from '../../../src/node-agent/runtime/rule-actions.js';
import { queryParam } from '../../../src/node-agent/runtime/matchers.js';
import type { HttpRedirect } from '../../../src/routing/mesh-config.js';

const redirect = (spec: Partial<HttpRedirect>): HttpRedirect => ({ scheme: null, hostname: null, port: null, path: null, statusCode: 302, ...spec });

describe('runtime: Gateway API rule actions', () => {
  it('set replaces every field of the name, add appends to the first, remove drops; names case-insensitive', () => {
    const fields = [{ name: 'x-header-set', value: 'a' }, { name: 'X-Header-Set', value: 'b' }, { name: 'x-header-add', value: 'old' }, { name: 'X-Remove', value: 'r' }];
    expect(editFields(fields, [{ set: [{ name: 'X-Header-Set', value: 'new' }], add: [{ name: 'X-Header-Add', value: 'more' }, { name: 'X-New', value: 'n' }], remove: ['x-remove'] }])).to.deep.equal([
      { name: 'x-header-add', value: 'old,more' }, { name: 'X-Header-Set', value: 'new' }, { name: 'X-New', value: 'n' },
    ]);
  });

  it('path edits: full replacement, prefix replacement keeping the rest, stripping a prefix', () => {
    expect(editPath('/full/one/two', { type: 'ReplaceFullPath', value: '/one' })).to.equal('/one');
    expect(editPath('/prefix/one/two', { type: 'ReplacePrefixMatch', prefix: '/prefix/one', value: '/one' })).to.equal('/one/two');
    expect(editPath('/strip-prefix/three', { type: 'ReplacePrefixMatch', prefix: '/strip-prefix', value: '/' })).to.equal('/three');
    expect(editPath('/strip-prefix', { type: 'ReplacePrefixMatch', prefix: '/strip-prefix', value: '/' })).to.equal('/');
    expect(editPath('/old/', { type: 'ReplacePrefixMatch', prefix: '/old', value: '/new/' })).to.equal('/new/');
  });

  it('redirect locations: default scheme, host and port, well-known ports left out, the query kept', () => {
    const request = { path: '/a', query: 'q=1', host: 'echo:8080' };
    expect(redirectLocation(redirect({}), request, 8080, 'echo.ns')).to.equal('http://echo:8080/a?q=1');
    expect(redirectLocation(redirect({}), { ...request, host: 'echo' }, 80, 'echo.ns')).to.equal('http://echo/a?q=1');
    expect(redirectLocation(redirect({ scheme: 'https' }), request, 8080, 'echo.ns')).to.equal('https://echo/a?q=1');
    expect(redirectLocation(redirect({ port: 8083, hostname: 'example.org' }), request, 80, 'echo.ns')).to.equal('http://example.org:8083/a?q=1');
    expect(redirectLocation(redirect({ path: { type: 'ReplaceFullPath', value: '/b' } }), { path: '/a', query: '', host: undefined }, 80, 'echo.ns')).to.equal('http://echo.ns/b');
    expect(redirectLocation(redirect({}), { path: '/a', query: '', host: '[::1]:80' }, 80, 'x')).to.equal('http://[::1]/a');
  });

  it('query parameters: the first value, decoded, names case-sensitive', () => {
    expect(queryParam('animal=whale&animal=dolphin', 'animal')).to.equal('whale');
    expect(queryParam('a=b%20c+d', 'a')).to.equal('b c d');
    expect(queryParam('Animal=whale', 'animal')).to.equal(undefined);
    expect(queryParam('flag', 'flag')).to.equal('');
    expect(queryParam('a=%E0%A4%A', 'a')).to.equal('%E0%A4%A');
    expect(queryParam('', 'a')).to.equal(undefined);
  });
});
