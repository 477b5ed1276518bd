import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { readBlockYaml } from '../../../src/manifests/block-yaml.js';

/** What the `yaml` package makes of `text`: each non-empty document's value and first line. */
function byYaml(text: string): { value: unknown; line: number }[] | 'error' {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter });
  if (documents.some((d) => d.errors.length > 0)) return 'error';
  return documents
    .map((d) => ({ value: d.toJS() as unknown, line: lineCounter.linePos(d.contents?.range[0] ?? d.range[0]).line }))
    .filter((d) => d.value !== null && d.value !== undefined);
}

function byBlockReader(text: string): { value: unknown; line: number }[] | null {
  return readBlockYaml(text)?.map(({ value, line }) => ({ value, line })) ?? null;
}

const SERVICE = [
  '# a comment before the document',
  'apiVersion: v1',
  'kind: Service',
  'metadata:',
  '  name: web   # trailing comment',
  '  namespace: "shop"',
  '  annotations:',
  "    plexus.dev/mesh: 'true'",
  '    "quoted/key": "a \\"b\\" \\u00e9"',
  "    it's: 'it''s'",
  '  labels: {}',
  'spec:',
  '  ports:',
  '  - name: http',
  '    port: 8080',
  '    targetPort: -1',
  '    appProtocol: null',
  '  -   name: grpc',
  '      port: 0',
  '  selector:',
  '    app: web#1',
  '  ipFamilies:',
  '    - IPv4',
  '    -',
  '      nested: value',
  '  flags: [] # none',
  '  words: hello world  ',
  '  empty:',
  '  tilde: ~',
  '  yes: yes',
  '  on: True',
  '  url: http://example.com:8080/a?b=c',
  '  ip: 10.0.0.1',
  '  version: 1.2.3',
  '  dash: -x',
  '  nbsp: "x\u00a0"',
  '---',
  '---',
  'apiVersion: discovery.k8s.io/v1',
  'kind: EndpointSlice',
  'endpoints:',
  '- addresses:',
  '  - 10.0.0.1',
  '  conditions: {}',
  '- - nested',
  '  - list',
  '',
].join('\n');

describe('manifests/block-yaml: the fast reader of block-style YAML', () => {
  it('reads block mappings, sequences, quoted and plain scalars exactly as the yaml package does', () => {
    const fast = byBlockReader(SERVICE);
    expect(fast).to.not.equal(null);
    expect(fast).to.deep.equal(byYaml(SERVICE));
  });

  it('locates the items of a root `items` list where the yaml package does', () => {
    const text = ['apiVersion: v1', 'kind: List', 'items:', '- kind: A', '  apiVersion: v1', '-', '  kind: B', '  apiVersion: v1', '- kind: C'].join('\n');
    const [document] = readBlockYaml(text) ?? [];
    expect(document?.itemLines).to.deep.equal([4, 7, 9]);
  });

  const outside: Record<string, string> = {
    'an anchor': 'a: &x 1\nb: *x',
    'a tag': 'a: !!str 1',
    'a block scalar': 'a: |\n  text',
    'a folded scalar': 'a: >\n  text',
    'a multi-line plain scalar': 'a: one\n  two',
    'a multi-line quoted scalar': 'a: "one\n  two"',
    'a flow mapping': 'a: {b: 1}',
    'a flow sequence': 'a: [1, 2]',
    'a float': 'a: 1.5',
    'an exponent': 'a: 1e3',
    'an octal': 'a: 0o17',
    'a hex number': 'a: 0x1F',
    'a leading zero': 'a: 012',
    'a plus sign': 'a: +1',
    'a huge integer': 'a: 12345678901234567890',
    'infinity': 'a: .inf',
    'a tab': 'a:\t1',
    'CRLF': 'a: 1\r\nb: 2',
    'a duplicate key': 'a: 1\na: 2',
    'a numeric key': '1: a',
    'a null key': '~: a',
    'a merge key': '<<: a',
    'a __proto__ key': '__proto__: a',
    'a nested compact mapping': 'a: b: c',
    'a directive': '%YAML 1.2\n---\na: 1',
    'a document end marker': 'a: 1\n...\n',
    'a more-indented line': 'a:\n  b: 1\n   c: 2',
    'a less-indented line': 'a:\n    b: 1\n  c: 2',
    'a scalar document': 'just text',
    'an unknown escape': 'a: "\\x41"',
    'text after a quoted scalar': "a: 'x' y",
    'a control character': 'a: \u0001',
    'a complex key': '? a\n: b',
  };
  for (const [what, text] of Object.entries(outside)) {
    it(`leaves ${what} to the yaml package`, () => {
      expect(readBlockYaml(text)).to.equal(null);
    });
  }

  it('agrees with the yaml package on every manifest of the repository it reads', () => {
    let read = 0;
    for (const dir of ['examples', 'manifests']) {
      for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f))) {
        const text = readFileSync(join(dir, file), 'utf8');
        const fast = byBlockReader(text);
        if (fast === null) continue;
        read++;
        expect(fast, file).to.deep.equal(byYaml(text));
      }
    }
    expect(read).to.be.greaterThan(0);
  });
});
