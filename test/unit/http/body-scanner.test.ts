import { expect } from 'chai';
import { ChunkedScanner, LengthScanner } from '../../../src/node-agent/http/http1/body-scanner.js';

/** Feeds `input` in pieces of `step` bytes; returns the offset where the body ended, or -1. */
function scanInSteps(scanner: ChunkedScanner | LengthScanner, input: string, step: number): number {
  const buffer = Buffer.from(input, 'latin1');
  for (let start = 0; start < buffer.length; start += step) {
    const end = Math.min(buffer.length, start + step);
    const stop = scanner.scan(buffer, start, end);
    if (scanner.error !== null) return -1;
    if (scanner.done) return stop;
    expect(stop).to.equal(end);
  }
  return -1;
}

describe('body scanners', () => {
  it('a length body ends after its bytes', () => {
    const scanner = new LengthScanner(5);
    expect(scanInSteps(scanner, 'helloGET /', 3)).to.equal(5);
    expect(new LengthScanner(0).done).to.equal(true);
  });

  describe('chunked', () => {
    const body = '5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n';

    for (const step of [1, 2, 7, 1000]) {
      it(`finds the end of a body with extensions and trailers, fed ${step} bytes at a time`, () => {
        const scanner = new ChunkedScanner(1024);
        expect(scanInSteps(scanner, `${body}NEXT`, step)).to.equal(body.length);
      });
    }

    it('ends at the last chunk without trailers, uppercase and lowercase hex', () => {
      const input = 'a\r\n0123456789\r\nF\r\n0123456789abcde\r\n0\r\n\r\n';
      expect(scanInSteps(new ChunkedScanner(1024), `${input}GET`, 4)).to.equal(input.length);
    });

    it('handles a chunk size with leading zeros and whitespace before an extension', () => {
      const input = '0003 ;x\r\nabc\r\n0\r\n\r\n';
      expect(scanInSteps(new ChunkedScanner(1024), input, 3)).to.equal(input.length);
    });

    const invalid: Record<string, string> = {
      'no size': '\r\nabc\r\n0\r\n\r\n',
      'a non-hex size': 'g\r\nabc\r\n0\r\n\r\n',
      'a size with a sign': '+3\r\nabc\r\n0\r\n\r\n',
      'a size too large': 'fffffffffffffff\r\n',
      'data longer than its size': '2\r\nabc\r\n0\r\n\r\n',
      'bare LF after the size': '3\nabc\r\n0\r\n\r\n',
      'bare CR after the data': '3\r\nabc\rx',
      'a bare LF ending the body': '0\r\n\n',
      'a control character in an extension': '3;\x01\r\nabc\r\n0\r\n\r\n',
    };
    for (const [name, input] of Object.entries(invalid)) {
      it(`rejects ${name}`, () => {
        const scanner = new ChunkedScanner(1024);
        scanInSteps(scanner, input, 1);
        expect(scanner.error, name).to.be.a('string');
        expect(scanner.done).to.equal(false);
      });
    }

    it('limits the trailer section', () => {
      const scanner = new ChunkedScanner(16);
      scanInSteps(scanner, `0\r\nX-Long: ${'a'.repeat(64)}\r\n\r\n`, 5);
      expect(scanner.error).to.equal('trailer section too large');
    });
  });
});
