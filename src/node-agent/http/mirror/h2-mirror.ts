/**
 * One h2c mirror copy: a stream on the mirror endpoint's shared session carrying the request
 * headers and whole body; the response (headers, data, trailers) is read and dropped.
 */
import * as http2 from 'node:http2';
import { CopyExchange, type MirrorCopy } from './copy.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

export class H2Mirror extends CopyExchange {
  readonly #headers: http2.OutgoingHttpHeaders;
  readonly #body: readonly Buffer[];
  #stream: http2.ClientHttp2Stream | null = null;
  #answered = false;

  constructor(copy: MirrorCopy, headers: http2.OutgoingHttpHeaders, body: readonly Buffer[]) {
    super(copy);
    this.#headers = headers;
    this.#body = body;
  }

  start(): void {
    const { path, endpoint, upstreams } = this.copy;
    let stream: http2.ClientHttp2Stream;
    try {
      const session = path.kind === 'via'
        ? upstreams.h2.session(path.key, endpoint.endpoint.ip, endpoint.endpoint.port, path.connect)
        : upstreams.h2.session(endpoint.key, endpoint.endpoint.ip, endpoint.endpoint.port);
      stream = session.request(this.#headers, { endStream: this.#body.length === 0 });
    } catch {
      this.end('failed');
      return;
    }
    this.#stream = stream;
    this.startTimeout();
    stream.on('error', () => { /* 'close' follows */ });
    stream.on('response', () => { this.#answered = true; });
    stream.on('close', () => {
      const complete = stream.rstCode === undefined || stream.rstCode === NGHTTP2_NO_ERROR;
      this.end(this.#answered && complete ? 'answered' : 'failed');
    });
    // Read and drop the response, so flow control never holds the endpoint's session.
    stream.resume();
    if (this.#body.length === 0) return;
    for (const piece of this.#body) stream.write(piece);
    stream.end();
  }

  protected release(): void {
    const stream = this.#stream;
    this.#stream = null;
    if (stream !== null && !stream.closed) stream.close(NGHTTP2_CANCEL);
  }
}
