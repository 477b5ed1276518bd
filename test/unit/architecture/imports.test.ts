/**
 * The import rules of docs/architecture.md, held against the code: a file of `src/` imports only
 * its own folder and the folders its folder's row allows; no import cycle; no file over 400 lines
 * and no function over 80. The long ones of today are listed below by name, and the list only
 * shrinks (an entry that no longer matches the code fails too).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../../helpers/paths.js';
import { folderOf, readImportGraph, sourceFilesOf, type ImportEdge } from './import-graph.js';
import { longDefinitions } from './sizes.js';

/** `file` (over 400 lines) or `file:function` (over 80): each with the step that shortens it. */
const KNOWN_LONG: readonly string[] = [];

/** The `| \`folder/\` | \`a/\`, \`b/\` |` rows under "## Import rules" in docs/architecture.md. */
function readRules(): Map<string, Set<string>> {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = doc.split(/^## /m).find((part) => part.startsWith('Import rules'));
  if (section === undefined) throw new Error('docs/architecture.md has no "## Import rules" section');
  const rules = new Map<string, Set<string>>();
  for (const match of section.matchAll(/^\| `([a-z0-9-]+)\/` \|([^|\n]*)\|$/gm)) {
    const allowed = [...(match[2] ?? '').matchAll(/`([a-z0-9-]+)\/`/g)].map((m) => m[1] ?? '');
    rules.set(match[1] ?? '', new Set(allowed));
  }
  return rules;
}

/** The files of each import cycle (Tarjan's strongly connected components, larger than one file). */
function cycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of edges) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file) ?? 0);
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member !== undefined) {
        onStack.delete(member);
        component.push(member);
      }
    } while (member !== undefined && member !== file);
    if (component.length > 1) found.push(component.sort());
  };
  for (const file of next.keys()) if (!index.has(file)) visit(file);
  return found;
}

describe('architecture: the import rules of docs/architecture.md', () => {
  const rules = readRules();
  const edges = readImportGraph();

  it('the rules table is read (a sanity check on the doc format)', () => {
    expect(rules.get('smi')).to.deep.equal(new Set(['model']));
    expect(rules.get('model')).to.deep.equal(new Set());
  });

  it('every folder of src/ has a row, and every row names only folders that have one', () => {
    const folders = new Set(edges.flatMap((edge) => [folderOf(edge.from), folderOf(edge.to)]));
    expect([...folders].filter((folder) => !rules.has(folder)), 'folders of src/ missing from the table').to.deep.equal([]);
    const named = [...rules.values()].flatMap((allowed) => [...allowed]);
    expect(named.filter((folder) => !rules.has(folder)), 'folders allowed but without a row').to.deep.equal([]);
  });

  it('each import stays in its folder or goes to a folder its row allows', () => {
    const broken = edges.filter((edge) => {
      const from = folderOf(edge.from);
      const to = folderOf(edge.to);
      return from !== to && !(rules.get(from)?.has(to) ?? false);
    });
    expect(broken.map((edge) => `${edge.from}:${edge.line} imports ${edge.to}`), 'imports against docs/architecture.md').to.deep.equal([]);
  });

  it('no file imports itself through other files', () => {
    expect(cycles(edges)).to.deep.equal([]);
  });

  it('every typed Kubernetes API client is made in src/kube/ (so every call has a timeout and an abort)', () => {
    const makers = sourceFilesOf()
      .filter((file) => folderOf(file) !== 'kube' && readFileSync(join(REPO_ROOT, file), 'utf8').includes('.makeApiClient('));
    expect(makers, 'use typedClient (src/kube/typed-client.ts)').to.deep.equal([]);
  });

  it('no file of src/ over 400 lines, no function over 80 (but those listed, which only shrink)', () => {
    const long = longDefinitions('src', { fileLines: 400, functionLines: 80 });
    const keys = long.map((item) => item.key);
    expect(long.filter((item) => !KNOWN_LONG.includes(item.key)).map((item) => `${item.key}: ${item.lines} lines`)).to.deep.equal([]);
    expect(KNOWN_LONG.filter((key) => !keys.includes(key)), 'shortened: strike these from KNOWN_LONG').to.deep.equal([]);
  });
});
