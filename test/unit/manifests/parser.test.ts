import { expect } from 'chai';
import { parseManifestText } from '../../../src/manifests/parse.js';
import { manifestParser } from '../../../src/manifests/parser.js';

const TEXTS: Readonly<Record<string, string>> = {
  'two.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n',
  'broken.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  labels: [x\n',
  'bom.yaml': '\uFEFFapiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n',
  'list.json': JSON.stringify({ apiVersion: 'v1', kind: 'List', items: Array.from({ length: 2500 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` } })) }),
};

describe('manifests/parser: parsing on the parser thread', () => {
  it('gives what parseManifestText gives, batches reassembled in order', async () => {
    for (const [file, text] of Object.entries(TEXTS)) {
      const parsed = await manifestParser.parse(file, new TextEncoder().encode(text), null);
      expect(parsed.kind, file).to.equal('parsed');
      if (parsed.kind !== 'parsed') continue;
      expect(parsed.result, file).to.deep.equal(parseManifestText(text.replace(/^\uFEFF/, ''), file));
      expect(parsed.hash).to.match(/^[0-9a-f]{64}$/);
    }
  });

  it('answers unchanged, without parsing, for the content of the previous hash', async () => {
    const bytes = (): Uint8Array => new TextEncoder().encode(TEXTS['two.yaml']!);
    const first = await manifestParser.parse('two.yaml', bytes(), null);
    const again = await manifestParser.parse('two.yaml', bytes(), first.hash);
    expect(again).to.deep.equal({ kind: 'unchanged', hash: first.hash });
  });

  it('parses files one after another when asked for several at once', async () => {
    const files = Object.keys(TEXTS);
    const results = await Promise.all(files.map((file) => manifestParser.parse(file, new TextEncoder().encode(TEXTS[file]!), null)));
    expect(results.map((r) => (r.kind === 'parsed' ? r.result.objects.length : -1))).to.deep.equal([2, 0, 1, 2500]);
  });

  it('reads a small block-style file itself, as parseManifestText does, and knows its hash again', async () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: shop\nspec:\n  ports:\n  - port: 80\n';
    const parsed = await manifestParser.parse('block.yaml', new TextEncoder().encode(text), null);
    expect(parsed).to.deep.include({ kind: 'parsed', result: parseManifestText(text, 'block.yaml') });
    const again = await manifestParser.parse('block.yaml', new TextEncoder().encode(text), parsed.hash);
    expect(again).to.deep.equal({ kind: 'unchanged', hash: parsed.hash });
  });
});
