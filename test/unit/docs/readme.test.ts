/** The docs check for the README: its Documentation list links every page under docs/. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../../helpers/paths.js';
import { readDoc, section } from './markdown.js';

describe('docs check: the README', () => {
  it('links every page of docs/ from its Documentation list', () => {
    const readme = readDoc('README.md');
    const where = section(readme, /^## Documentation/);
    expect(where, 'README.md has a "## Documentation" section').to.not.equal(null);
    const list = readme.lines.slice(where!.start - 1, where!.end - 1).join('\n');
    const missing = readdirSync(join(REPO_ROOT, 'docs')).filter((page) => page.endsWith('.md') && !list.includes(`(docs/${page})`));
    if (missing.length > 0) {
      expect.fail(`README.md's Documentation list does not link ${missing.join(', ')}: add\n${missing.map((page) => `- [docs/${page}](docs/${page}): <what it covers>`).join('\n')}\n`);
    }
  });
});
