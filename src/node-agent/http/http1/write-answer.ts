/** Writes a response the proxy makes itself: a short text body, optionally closing after it. */
import type { Writable } from 'node:stream';
import { statusText } from '../local-answers.js';

/** `location`: a redirect's target (validated by the compiler and the request parser: no CR/LF). */
export function writeLocalAnswer(socket: Writable, status: number, body: string, close: boolean, headRequest: boolean, location?: string): void {
  if (socket.destroyed || !socket.writable) return;
  const length = Buffer.byteLength(body);
  let head = `HTTP/1.1 ${status} ${statusText(status)}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${length}\r\n`;
  if (location !== undefined) head += `location: ${location}\r\n`;
  if (close) head += 'connection: close\r\n';
  socket.write(headRequest ? `${head}\r\n` : `${head}\r\n${body}`);
}
