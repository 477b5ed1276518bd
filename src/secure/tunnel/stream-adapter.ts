/**
 * A plain Duplex in front of an HTTP/2 stream. Node's HTTP server, handed a raw Http2Stream as
 * its connection, sends a corrupted first response (seen on Node 20); behind this adapter,
 * which passes only Buffers one write at a time, it works. Backpressure and ends carry through.
 */
import { Duplex } from 'node:stream';

export function plainDuplex(inner: Duplex): Duplex {
  const outer = new Duplex({
    decodeStrings: true,
    write(chunk: Buffer, _encoding, callback) {
      inner.write(chunk, callback);
    },
    final(callback) {
      inner.end(callback);
    },
    read() {
      inner.resume();
    },
    destroy(error, callback) {
      inner.destroy(error ?? undefined);
      callback(error);
    },
  });
  inner.on('data', (chunk: Buffer) => {
    if (!outer.push(chunk)) inner.pause();
  });
  inner.once('end', () => outer.push(null));
  inner.once('error', (error) => outer.destroy(error));
  // Closed before its end arrived: the peer reset it.
  inner.once('close', () => {
    if (!inner.readableEnded) outer.destroy();
  });
  return outer;
}
