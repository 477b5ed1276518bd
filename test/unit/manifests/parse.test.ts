import { expect } from 'chai';
import { formatManifestError } from '../../../src/manifests/errors.js';
import { parseManifestText } from '../../../src/manifests/parse.js';

describe('manifests/parse: YAML text to located objects', () => {
  it('reads every document of a multi-document file with its first line', () => {
    const text = [
      '# leading comment',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: web, namespace: shop}',
      '---',
      '# only a comment',
      '---',
      '',
      'apiVersion: split.smi-spec.io/v1alpha4',
      'kind: TrafficSplit',
      'metadata: {name: web-split}',
      '---',
      '~',
      '...',
    ].join('\n');
    const result = parseManifestText(text, 'shop.yaml');
    expect(result.errors).to.deep.equal([]);
    expect(result.objects).to.deep.equal([
      { object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' } }, source: { file: 'shop.yaml', line: 2 } },
      { object: { apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'web-split' } }, source: { file: 'shop.yaml', line: 9 } },
    ]);
  });

  it('expands kind: List, locating each item', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- apiVersion: v1',
      '  kind: Service',
      '  metadata: {name: a}',
      '- apiVersion: v1',
      '  kind: Service',
      '  metadata: {name: b}',
    ].join('\n');
    const result = parseManifestText(text, 'list.yaml');
    expect(result.errors).to.deep.equal([]);
    expect(result.objects.map((o) => [(o.object['metadata'] as { name: string }).name, o.source.line])).to.deep.equal([['a', 4], ['b', 7]]);
  });

  it('expands typed lists, giving items the list apiVersion and item kind', () => {
    const text = 'apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplitList\nitems:\n  - metadata: {name: s}\n    spec: {}\n';
    expect(parseManifestText(text, 'ts.yaml').objects).to.deep.equal([{
      object: { apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit', metadata: { name: 's' }, spec: {} },
      source: { file: 'ts.yaml', line: 4 },
    }]);
  });

  it('reports bad list items and nested lists by line, keeping the good items', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- 5\n- {apiVersion: v1, kind: List, items: []}\n- {apiVersion: v1, kind: Pod}\n';
    const result = parseManifestText(text, 'l.yaml');
    expect(result.objects.map((o) => o.source.line)).to.deep.equal([6]);
    expect(result.errors.map(formatManifestError)).to.deep.equal([
      'l.yaml:4: items[0]: a manifest must be a mapping, got number',
      'l.yaml:5: items[1]: a List inside a List is not supported',
    ]);
    expect(parseManifestText('apiVersion: v1\nkind: List\nitems: 3\n', 'l.yaml').errors.map(formatManifestError))
      .to.deep.equal(['l.yaml:1: a List needs items (a list)']);
  });

  it('reports documents that are not objects, and keeps the others', () => {
    const text = 'apiVersion: v1\nkind: Service\n---\n- a\n- b\n---\nkind: Service\n---\napiVersion: v1\nkind: ""\n---\nplain text\n';
    const result = parseManifestText(text, 'mixed.yaml');
    expect(result.objects).to.have.length(1);
    expect(result.errors.map(formatManifestError)).to.deep.equal([
      'mixed.yaml:4: a manifest must be a mapping, got a list',
      'mixed.yaml:7: a manifest needs apiVersion (a non-empty string)',
      'mixed.yaml:9: a manifest needs kind (a non-empty string)',
      'mixed.yaml:12: a manifest must be a mapping, got string',
    ]);
  });

  it('a syntax error anywhere makes the whole file contribute nothing', () => {
    const text = 'apiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n';
    const result = parseManifestText(text, 'broken.yaml');
    expect(result.objects).to.deep.equal([]);
    expect(result.errors).to.have.length.greaterThan(0);
    expect(result.errors[0]?.file).to.equal('broken.yaml');
    expect(result.errors[0]?.message).to.match(/^YAML syntax error: /);
    expect(result.errors[0]?.line).to.equal(7);
  });

  it('reports an error on the last line of a file at that line, not the one after it', () => {
    const body = Array.from({ length: 57 }, (_, i) => `# line ${i + 1}`).join('\n');
    const cases: Array<[string, string]> = [
      ['an unclosed flow sequence', `${body}\nlabels: [x\n`],
      ['an unclosed quote', `${body}\nname: "web\n`],
      ['no final newline', `${body}\nname: "web`],
      ['trailing blank lines', `${body}\nlabels: [x\n\n\n`],
      ['CRLF line endings', `${body.replaceAll('\n', '\r\n')}\r\nlabels: [x\r\n`],
    ];
    for (const [what, text] of cases) {
      const errors = parseManifestText(text, 'last.yaml').errors;
      expect(errors.map((e) => e.line), what).to.deep.equal([58]);
    }
  });

  it('reports duplicate keys and tab indentation at their line', () => {
    expect(parseManifestText('apiVersion: v1\nkind: Service\nkind: Pod\n', 'dup.yaml').errors.map(formatManifestError))
      .to.deep.equal(['dup.yaml:3: YAML syntax error: Map keys must be unique']);
    expect(parseManifestText('apiVersion: v1\nkind: Service\nmetadata:\n\tname: x\n', 'tab.yaml').errors[0]?.line).to.equal(4);
  });

  it('refuses alias bombs instead of expanding them', () => {
    const bomb = [
      'apiVersion: v1', 'kind: ConfigMap',
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    const result = parseManifestText(bomb, 'bomb.yaml');
    expect(result.objects).to.deep.equal([]);
    expect(result.errors.map(formatManifestError)).to.deep.equal(['bomb.yaml:1: Excessive alias count indicates a resource exhaustion attack']);
  });

  it('reads JSON, including tab-indented JSON', () => {
    const result = parseManifestText('{\n\t"apiVersion": "v1",\n\t"kind": "Service",\n\t"metadata": {"name": "j"}\n}\n', 'svc.json');
    expect(result.errors).to.deep.equal([]);
    expect(result.objects).to.deep.equal([{ object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'j' } }, source: { file: 'svc.json', line: 1 } }]);
  });

  it('reads files with a byte-order mark and CRLF line endings', () => {
    const result = parseManifestText('\ufeffapiVersion: v1\r\nkind: Service\r\n---\r\napiVersion: v1\r\nkind: Pod\r\n', 'win.yaml');
    expect(result.errors).to.deep.equal([]);
    expect(result.objects.map((o) => [o.object['kind'], o.source.line])).to.deep.equal([['Service', 1], ['Pod', 4]]);
  });

  it('treats an empty file or a comments-only file as no objects', () => {
    expect(parseManifestText('', 'e.yaml')).to.deep.equal({ objects: [], errors: [] });
    expect(parseManifestText('# nothing\n---\n', 'e.yaml')).to.deep.equal({ objects: [], errors: [] });
  });

  it('formats errors as path:line: message', () => {
    expect(formatManifestError({ file: 'a/b.yaml', line: 3, message: 'oops' })).to.equal('a/b.yaml:3: oops');
  });
});
