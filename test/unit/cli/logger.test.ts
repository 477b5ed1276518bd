/** The agent's log formats: JSON lines for collectors, one readable line on a terminal. */
import { expect } from 'chai';
import { defaultLogFormat, prettyLine } from '../../../src/cli/logger.js';

describe('agent log format', () => {
  it('defaults to pretty on a terminal and to JSON elsewhere (a pod, a pipe)', () => {
    expect(defaultLogFormat(true)).to.equal('pretty');
    expect(defaultLogFormat(false)).to.equal('json');
  });

  it('prints a pino line as time, level, message and key=value fields', () => {
    const time = new Date(2026, 11, 7, 9, 5, 3, 42).getTime();
    const json = JSON.stringify({ level: 40, time, pid: 7, hostname: 'h', adminPort: 9901, file: 'a b.yaml', vips: { 'shop/web': '127.77.0.1' }, msg: 'config problem' });
    expect(prettyLine(json)).to.equal('09:05:03.042 WARN  config problem adminPort=9901 file="a b.yaml" vips={"shop/web":"127.77.0.1"}\n');
  });

  it('colours the level only when asked', () => {
    expect(prettyLine(JSON.stringify({ level: 50, time: 0, msg: 'x' }), true)).to.contain('\x1b[31mERROR\x1b[0m');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(prettyLine('not json')).to.equal('not json\n');
  });
});
