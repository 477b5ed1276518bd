/**
 * Runs in backend pods (mounted from a ConfigMap, `node backend.mjs`; Node built-ins only).
 * HTTP on $HTTP_PORT (8080) answers the pod's name (/ready: the readiness probe); with FAIL_EVERY=N every Nth request of this
 * pod (the 1st, N+1th, ...) is a 503, so retries are visible. TCP on $TCP_PORT (9000) echoes;
 * UDP on $UDP_PORT (9053) answers "<pod name> <datagram>".
 */
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';

const name = process.env.POD_NAME ?? 'unknown';
const failEvery = Number(process.env.FAIL_EVERY ?? '0');
let served = 0;

createHttpServer((req, res) => {
  req.resume();
  if (req.url === '/ready') {
    res.end('ready\n');
    return;
  }
  served += 1;
  if (failEvery > 0 && served % failEvery === 1 % failEvery) {
    res.writeHead(503, { 'Content-Type': 'text/plain' }).end(`${name} failing on purpose\n`);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`${name}\n`);
}).listen(Number(process.env.HTTP_PORT ?? '8080'));

createTcpServer((socket) => {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
}).listen(Number(process.env.TCP_PORT ?? '9000'));

const udp = createSocket('udp4');
udp.on('message', (message, peer) => udp.send(`${name} ${message.toString()}`, peer.port, peer.address));
udp.bind(Number(process.env.UDP_PORT ?? '9053'));

process.on('SIGTERM', () => process.exit(0));
