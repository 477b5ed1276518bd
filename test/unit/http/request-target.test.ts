import { expect } from 'chai';
import { HeadError } from '../../../src/node-agent/http/http1/head-error.js';
import { DEFAULT_PATH_POLICY, type PathPolicy, checkTargetCharacters, normalizeTarget } from '../../../src/node-agent/http/request-target.js';

function path(raw: string, policy: Partial<PathPolicy> = {}): string {
  return normalizeTarget(raw, 'GET', { ...DEFAULT_PATH_POLICY, ...policy }).path;
}

function refusal(raw: string, policy: Partial<PathPolicy> = {}): string {
  try {
    checkTargetCharacters(raw);
    normalizeTarget(raw, 'GET', { ...DEFAULT_PATH_POLICY, ...policy });
  } catch (error) {
    if (error instanceof HeadError && error.status === 400) return error.message;
    throw error;
  }
  throw new Error(`accepted: ${raw}`);
}

describe('request target normalisation', () => {
  it('returns a clean target as it is', () => {
    const target = '/api/v1/users?id=1&x=/../';
    const result = normalizeTarget(target, 'GET', DEFAULT_PATH_POLICY);
    expect(result).to.deep.equal({ path: '/api/v1/users', target, authority: null });
    expect(path('/.well-known/x')).to.equal('/.well-known/x');
    expect(path('/a//b', { mergeSlashes: false })).to.equal('/a//b');
    expect(path('/a;b=c/d')).to.equal('/a;b=c/d');
  });

  it('removes dot-segments (RFC 3986 §5.2.4), encoded ones too', () => {
    const cases: Record<string, string> = {
      '/public/../admin': '/admin',
      '/public/%2e%2e/admin': '/admin',
      '/public/%2E%2e/admin': '/admin',
      '/public/.%2e/admin': '/admin',
      '/public;/../admin': '/admin',
      '/public/./admin': '/public/admin',
      '/a/b/..': '/a/',
      '/a/b/.': '/a/b/',
      '/..': '/',
      '/../../a': '/a',
      '/a/./../b/.': '/b/',
      '/.': '/',
      '/%2e': '/',
      '/a/...': '/a/...',
    };
    for (const [raw, expected] of Object.entries(cases)) expect(path(raw), raw).to.equal(expected);
  });

  it('decodes unreserved characters and uppercases other encodings', () => {
    expect(path('/%41%7e%2D%5f/%c3%a9%20%3b')).to.equal('/A~-_/%C3%A9%20%3B');
  });

  it('refuses escaped slashes and backslashes by default; keeps or unescapes them when told', () => {
    for (const raw of ['/public%2F..%2Fadmin', '/public%2f', '/a%5Cb', '/public\\..\\admin']) {
      expect(refusal(raw), raw).to.match(/escaped or back slash/);
    }
    expect(path('/public%2f..%2Fadmin', { escapedSlashes: 'keep' })).to.equal('/public%2F..%2Fadmin');
    expect(path('/public\\..\\admin', { escapedSlashes: 'keep' })).to.equal('/public%5C..%5Cadmin');
    expect(path('/public%2F..%2Fadmin', { escapedSlashes: 'unescape' })).to.equal('/admin');
    expect(path('/public\\..\\admin', { escapedSlashes: 'unescape' })).to.equal('/admin');
  });

  it('merges slashes by default, before removing dot-segments; keeps them when told', () => {
    expect(path('//a///b//')).to.equal('/a/b/');
    expect(path('/public//../admin')).to.equal('/admin');
    expect(path('//')).to.equal('/');
    expect(path('/a/..//b', { mergeSlashes: false })).to.equal('//b');
    expect(path('/a//../b', { mergeSlashes: false })).to.equal('/a/b');
    expect(path('/public//../admin', { mergeSlashes: false })).to.equal('/public/admin');
  });

  it('refuses what servers read differently', () => {
    expect(refusal('/public/..;/admin')).to.match(/dot-segment with parameters/);
    expect(refusal('/public/.;x/admin')).to.match(/dot-segment with parameters/);
    expect(refusal('/public/%2e%2e;/admin')).to.match(/dot-segment with parameters/);
    expect(refusal('/a%2')).to.match(/invalid percent-encoding/);
    expect(refusal('/a%g0')).to.match(/invalid percent-encoding/);
    expect(refusal('/a%00b')).to.match(/NUL/);
    expect(refusal('/a#b')).to.match(/fragment/);
    expect(refusal('/a b')).to.match(/invalid character/);
    expect(refusal('/caf\u00e9')).to.match(/invalid character/);
    expect(refusal('*')).to.match(/only for OPTIONS/);
    expect(refusal('a/b')).to.match(/neither a path nor an http URL/);
    expect(refusal('ftp://h/a')).to.match(/neither a path nor an http URL/);
    expect(refusal('http://user@h/a')).to.match(/invalid authority/);
    expect(refusal('http:///a')).to.match(/invalid authority/);
  });

  it('reads absolute-form targets', () => {
    expect(normalizeTarget('HTTP://web.shop:80/a/../b?c', 'GET', DEFAULT_PATH_POLICY))
      .to.deep.equal({ path: '/b', target: '/b?c', authority: 'web.shop:80' });
    expect(normalizeTarget('http://web?/public', 'GET', DEFAULT_PATH_POLICY)).to.deep.equal({ path: '/', target: '/?/public', authority: 'web' });
    expect(normalizeTarget('http://[::1]:8080/x', 'GET', DEFAULT_PATH_POLICY).authority).to.equal('[::1]:8080');
  });
});
