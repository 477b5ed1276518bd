/**
 * The docs check for `/config`: a field of the agent's /config answer is written in the docs as
 * its full dotted path (`config.allocation.vips`) on a line that mentions `/config`; each such
 * path must be in what a real agent (the `plexus` binary on examples/shop) serves.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { AgentProcess } from '../../../src/demo/agent-process.js';
import { PLEXUS_ARGV, REPO_ROOT } from '../../helpers/paths.js';
import { allDocs, codeLines } from './markdown.js';

/** Every key path in a JSON value; arrays contribute their elements' keys. */
function keyPaths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) keyPaths(item, prefix, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.add(path);
      keyPaths(child, path, out);
    }
  }
  return out;
}

describe('docs check: /config paths (the docs against a running agent)', function () {
  this.timeout(60_000);
  let served: Set<string>;

  before(async () => {
    const agent = new AgentProcess([process.execPath, ...PLEXUS_ARGV], [
      'agent', '--manifests', join(REPO_ROOT, 'examples', 'shop'), '--admin-port', '0', '--dns-port', '0', '--vip-cidr', '127.135.0.0/24', '--acl',
    ]);
    try {
      const ready = await agent.ready();
      const response = await fetch(`http://127.0.0.1:${ready.adminPort}/config`);
      expect(response.status).to.equal(200);
      served = keyPaths(await response.json());
    } finally {
      await agent.stop();
    }
  });

  it('every dotted /config path in the docs is in what the agent serves', () => {
    expect(served).to.include('config.allocation.vips');
    const problems: string[] = [];
    for (const doc of allDocs()) {
      const configLines = new Set(doc.lines.flatMap((text, index) => (text.includes('/config') ? [index + 1] : [])));
      for (const code of codeLines(doc)) {
        if (!configLines.has(code.line) || !/^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)+$/.test(code.text)) continue;
        if (!served.has(code.text)) {
          const near = [...served].filter((path) => path.endsWith(`.${code.text}`) || path.endsWith(`.${code.text.split('.').pop()}`));
          problems.push(`${doc.path}:${code.line}: /config has no \`${code.text}\`${near.length > 0 ? `; did you mean ${near.map((p) => `\`${p}\``).join(' or ')}?` : ''}`);
        }
      }
    }
    if (problems.length > 0) expect.fail(`the docs name /config fields the agent does not serve:\n\n${problems.join('\n')}\n`);
  });
});
