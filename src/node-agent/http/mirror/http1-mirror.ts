/**
 * One HTTP/1.1 mirror copy: the request head and whole body written on a pooled connection to
 * the mirror endpoint, the response read to its end and dropped. The connection goes back to the
 * pool when the response was complete and reusable, and is closed otherwise.
 */
import { type BodyScanner, CloseDelimitedScanner, responseScanner } from '../http1/body-scanner.js';
import type { UpstreamConnection, UpstreamOwner } from '../http1/connection-pool.js';
import { RESPONSE_HEAD_RULES, findHead } from '../http1/head-bytes.js';
import { parseResponseHead } from '../http1/response-head.js';
import type { MirrorOutcome } from '../../telemetry/types.js';
import { CopyExchange, type MirrorCopy } from './copy.js';

export class Http1Mirror extends CopyExchange implements UpstreamOwner {
  readonly #method: string;
  readonly #head: string;
  readonly #body: readonly Buffer[];
  #connection: UpstreamConnection | null = null;
  #pending: Buffer | null = null;
  #scanner: BodyScanner | null = null;
  #reusable = false;

  constructor(copy: MirrorCopy, method: string, head: string, body: readonly Buffer[]) {
    super(copy);
    this.#method = method;
    this.#head = head;
    this.#body = body;
  }

  start(): void {
    const { path, endpoint, upstreams } = this.copy;
    this.startTimeout();
    const key = path.kind === 'via' ? path.key : endpoint.key;
    upstreams.http1.acquire(key, endpoint.endpoint.ip, endpoint.endpoint.port, (_error, connection) => {
      if (connection === null) {
        this.end('failed');
        return;
      }
      if (this.done) {
        upstreams.http1.release(connection);
        return;
      }
      connection.owner = this;
      this.#connection = connection;
      const socket = connection.socket;
      socket.cork();
      socket.write(this.#head, 'latin1');
      for (const piece of this.#body) socket.write(piece);
      socket.uncork();
    }, path.kind === 'via' ? path.connect : undefined);
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.done) return;
    const body = this.#scanner === null ? this.#readHead(chunk) : chunk;
    if (body === null) return;
    const scanner = this.#scanner as BodyScanner;
    const end = scanner.scan(body, 0, body.length);
    if (scanner.error !== null) {
      this.end('failed');
      return;
    }
    if (!scanner.done) return;
    if (end < body.length) this.#reusable = false;
    this.end('answered');
  }

  onUpstreamEnd(): void {
    this.#ended();
  }

  onUpstreamClose(): void {
    this.#ended();
  }

  onUpstreamDrain(): void {
    // The whole copy was written at once; nothing waits for the socket.
  }

  /** Reads the final response head (interim 1xx ones are skipped); returns the bytes after it, null for more bytes. */
  #readHead(chunk: Buffer): Buffer | null {
    let buffer = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = null;
    for (;;) {
      let length: number;
      try {
        length = findHead(buffer, RESPONSE_HEAD_RULES);
        if (length === -1) {
          this.#pending = buffer;
          return null;
        }
        const response = parseResponseHead(buffer, length);
        if (response.status === 101) throw new Error('101 Switching Protocols to a mirror copy');
        if (response.status >= 200) {
          this.#scanner = responseScanner(this.#method, response, RESPONSE_HEAD_RULES.maxBytes);
          this.#reusable = response.keepAlive && !(this.#scanner instanceof CloseDelimitedScanner);
          return buffer.subarray(length);
        }
      } catch {
        this.end('failed');
        return null;
      }
      buffer = buffer.subarray(length);
    }
  }

  /** The endpoint's side ended: a response delimited by the close is complete, any other is cut. */
  #ended(): void {
    if (this.done) return;
    this.#connection = null;
    this.end(this.#scanner instanceof CloseDelimitedScanner ? 'answered' : 'failed');
  }

  protected release(outcome: MirrorOutcome): void {
    const connection = this.#connection;
    this.#connection = null;
    if (connection === null) return;
    if (outcome === 'answered' && this.#reusable) this.copy.upstreams.http1.release(connection);
    else connection.destroy();
  }
}
