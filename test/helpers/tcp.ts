/** A plain TCP client for tests: one connection, one exchange. */
import { connect } from 'node:net';

/**
 * Connects to `address:port` (from `localAddress` when given), sends `chunks`, half-closes, and
 * resolves with everything received until the server's FIN.
 */
export function tcpExchange(address: string, port: number, chunks: string | readonly string[], localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, allowHalfOpen: true, ...(localAddress === undefined ? {} : { localAddress }) });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => (received += data));
    socket.on('end', () => {
      socket.end();
      resolve(received);
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      for (const chunk of typeof chunks === 'string' ? [chunks] : chunks) socket.write(chunk);
      socket.end();
    });
  });
}

/** Resolves with the error code of a connection attempt to `address:port` (`ECONNREFUSED`, …), or null when it connects. */
export function connectError(address: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
