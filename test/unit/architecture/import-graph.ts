/**
 * The import graph of `src/`, read from the sources as text: every `import … from`, `export … from`
 * and `import('…')` of a relative path, resolved to the file it names. Package imports are left
 * out (they are not arrows between our folders). `node dist/test/unit/architecture/import-graph.js`
 * prints the graph folder by folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../helpers/paths.js';

export interface ImportEdge {
  /** The importing file, from the repository root (`src/run/kube-agent.ts`). */
  readonly from: string;
  /** The imported file, from the repository root. */
  readonly to: string;
  readonly line: number;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The TypeScript files under `folder`, from the repository root (`src/kube/leader.ts`), sorted. */
export function sourceFilesOf(folder = 'src', root = REPO_ROOT): string[] {
  return sourceFiles(join(root, folder)).map((file) => relative(root, file).split(sep).join('/')).sort();
}

/** Every relative import in the files under `folder` (default `src`), in file order. */
export function readImportGraph(folder = 'src', root = REPO_ROOT): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of sourceFilesOf(folder, root)) {
    const text = readFileSync(join(root, from), 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? '';
      const to = posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
      edges.push({ from, to, line: lineAt(text, match.index + match[0].indexOf(specifier)) });
    }
  }
  return edges;
}

/** The folder right under `src/` that holds `file` (`src/kube/run.ts` → `kube`). */
export function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1] ?? '' : '';
}

/** How many imports run from each folder to each other folder: `from → to: count`. */
export function folderArrows(edges: readonly ImportEdge[]): Map<string, number> {
  const arrows = new Map<string, number>();
  for (const edge of edges) {
    const from = folderOf(edge.from);
    const to = folderOf(edge.to);
    if (from === to) continue;
    const key = `${from} → ${to}`;
    arrows.set(key, (arrows.get(key) ?? 0) + 1);
  }
  return arrows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arrows = folderArrows(readImportGraph());
  for (const [arrow, count] of [...arrows].sort(([a], [b]) => a.localeCompare(b))) process.stdout.write(`${arrow}: ${count}\n`);
}
