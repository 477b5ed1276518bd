/**
 * No call in src/ spreads an array into the arguments of the functions that take any number of
 * them (`push(...items)`, `Math.max(...values)`, `fn.apply(x, items)`): every argument goes on the
 * stack, and an array as large as the input (a manifest file of 130k objects, their problems)
 * throws a RangeError there. Use `append` from src/model/append.ts or a loop.
 */
import { expect } from 'chai';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../helpers/paths.js';

/** `push(...x`, `max(a, ...x` and the like, and `.apply(`. */
const ARGUMENT_SPREAD = /\b(?:push|unshift|splice|max|min|fromCharCode|fromCodePoint)\((?:[^()]*,\s*)?\.\.\.|\.apply\([^,()]+,/;

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) for (const file of await sourceFiles(path)) files.push(file);
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

describe('argument spreads in src/', () => {
  it('none: arrays are appended with loops, never spread onto the stack', async () => {
    const src = join(REPO_ROOT, 'src');
    const found: string[] = [];
    for (const file of await sourceFiles(src)) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        if (/^\s*\*/.test(code)) return;
        if (ARGUMENT_SPREAD.test(code)) found.push(`${relative(REPO_ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).to.deep.equal([]);
  });
});
