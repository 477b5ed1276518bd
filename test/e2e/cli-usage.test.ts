/** `plexus` with no command, on the real binary: it names the commands and exits 2. */
import { expect } from 'chai';
import { COMMANDS } from '../../src/cli/main.js';
import { runPlexus } from './helpers/plexus.js';

describe('plexus with no command (the real binary)', function () {
  this.timeout(60_000);

  it('names every command on stderr and exits 2', async () => {
    const result = await runPlexus([]);
    expect(result.code).to.equal(2);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.equal(`plexus: name a command: ${COMMANDS.map(([name]) => name).join(', ')}\nRun 'plexus --help' for usage.\n`);
  });
});
