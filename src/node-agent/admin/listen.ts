/** Starting a server on an address: resolves once it listens, rejects with the bind error. */
import type { Server } from 'node:net';

export function listenOn(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}
