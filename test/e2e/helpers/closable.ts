/** Test servers that close cleanly: `close` ends every open connection, then the server. */
import type { Server, Socket } from 'node:net';

/** Listens on address:port (rejects with the bind error); resolves with the server's `close`. */
export function listenClosable(server: Server, address: string, port: number): Promise<() => Promise<void>> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(() => new Promise<void>((done) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => done());
    })));
  });
}
