/**
 * The docs check for the README: its Documentation list links every page under docs/, and CI runs
 * the README's test command.
 */
import { readdirSync, readFileSync } from 'node:fs';
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

  it('its test command is what .ci/run runs, part by part and in order', () => {
    const readme = readDoc('README.md');
    const command = readme.lines.find((line) => line.startsWith('npm ci && npm test'));
    expect(command, 'README.md starts with `npm ci && npm test ...`').to.not.equal(undefined);
    const parts = command!.replace(/#.*$/, '').split('&&').map((part) => part.trim());
    const ci = readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8').split('\n').map((line) => line.trim());
    const at = parts.map((part) => ci.findIndex((line) => line === part || line.startsWith(`${part} `)));
    expect(parts.filter((_, i) => at[i] === -1), '.ci/run lacks these parts of the README\'s test command').to.deep.equal([]);
    expect(at, '.ci/run runs them in the README\'s order').to.deep.equal([...at].sort((a, b) => a - b));
  });
});
