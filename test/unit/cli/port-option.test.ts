import { expect } from 'chai';
import { portOption } from '../../../src/cli/options.js';

describe('cli: port options', () => {
  const coerce = portOption('issuer-port', 'the issuer port', 15012).coerce;

  it('keeps 0-65535', () => {
    for (const port of [0, 1, 15012, 65535]) expect(coerce(port)).to.equal(port);
  });

  it('names the option and its variable when the value is no port (a service link put tcp://… there)', () => {
    // yargs turns a non-numeric value such as PLEXUS_ISSUER_PORT=tcp://10.96.0.5:15012 into NaN.
    expect(() => coerce(Number.NaN)).to.throw('--issuer-port (or PLEXUS_ISSUER_PORT) needs a port number 0-65535, got a value that is not a number');
    expect(() => coerce(65536)).to.throw('--issuer-port (or PLEXUS_ISSUER_PORT) needs a port number 0-65535, got 65536');
    expect(() => coerce(-1)).to.throw(/got -1$/);
    expect(() => coerce(80.5)).to.throw(/got 80\.5$/);
  });
});
