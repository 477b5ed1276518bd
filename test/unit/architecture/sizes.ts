/** Files and functions of a folder that are longer than a limit, measured with the TypeScript parser. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../../helpers/paths.js';
import { sourceFilesOf } from './import-graph.js';

export interface LongDefinition {
  /** `src/a/b.ts` for a file, `src/a/b.ts:name` for a function (`name` as written, `(anonymous)` without one). */
  readonly key: string;
  readonly lines: number;
}

export interface SizeLimits {
  readonly fileLines: number;
  readonly functionLines: number;
}

function functionName(node: ts.SignatureDeclaration): string {
  if (node.name !== undefined) return node.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText();
  return '(anonymous)';
}

export function longDefinitions(folder: string, limits: SizeLimits, root = REPO_ROOT): LongDefinition[] {
  const found: LongDefinition[] = [];
  for (const file of sourceFilesOf(folder, root)) {
    const text = readFileSync(join(root, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const fileLines = source.getLineAndCharacterOfPosition(text.length).line + 1;
    if (fileLines > limits.fileLines) found.push({ key: file, lines: fileLines });
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
        const lines = source.getLineAndCharacterOfPosition(node.end).line - source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        if (lines > limits.functionLines) found.push({ key: `${file}:${functionName(node)}`, lines });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}
