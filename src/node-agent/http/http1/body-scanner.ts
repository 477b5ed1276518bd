/**
 * Finds where a message body ends in a byte stream without copying or changing it: the proxy
 * passes body bytes through as they are, and only needs to know when the message is complete
 * (to reuse the connection) and whether the chunked framing is well formed (RFC 9112 §7.1).
 */
import type { ResponseHead } from './response-head.js';
export interface BodyScanner {
  /** The body has ended. */
  readonly done: boolean;
  /** Why the framing is invalid, once it is; scanning stops there. */
  readonly error: string | null;
  /**
   * Scans `buffer[start, end)` and returns the index just after the last body byte in it
   * (`end` when the body goes on past this buffer).
   */
  scan(buffer: Buffer, start: number, end: number): number;
}

/** A body of exactly `length` bytes. */
export class LengthScanner implements BodyScanner {
  error: string | null = null;
  #remaining: number;

  constructor(length: number) {
    this.#remaining = length;
  }

  get done(): boolean {
    return this.#remaining === 0;
  }

  scan(_buffer: Buffer, start: number, end: number): number {
    const take = Math.min(this.#remaining, end - start);
    this.#remaining -= take;
    return start + take;
  }
}

/** A body that ends when the connection does (responses only). */
export class CloseDelimitedScanner implements BodyScanner {
  readonly done = false;
  readonly error = null;

  scan(_buffer: Buffer, _start: number, end: number): number {
    return end;
  }
}

const enum Chunk {
  Size, SizeSpace, SizeExtension, SizeLf, Data, DataCr, DataLf, TrailerStart, TrailerLine, TrailerLf, FinalLf, Done,
}

/** Hex digits of a chunk size (13 keeps it below 2^52, exact in a double). */
const MAX_SIZE_DIGITS = 13;

/** `chunked` transfer coding: sizes, extensions, data, trailers, all checked byte by byte. */
export class ChunkedScanner implements BodyScanner {
  error: string | null = null;
  #state = Chunk.Size;
  #size = 0;
  #sizeDigits = 0;
  #remaining = 0;
  #trailerBytes = 0;
  readonly #maxTrailerBytes: number;

  constructor(maxTrailerBytes: number) {
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  get done(): boolean {
    return this.#state === Chunk.Done;
  }

  scan(buffer: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end && this.error === null) {
      switch (this.#state) {
        case Chunk.Data: {
          const take = Math.min(this.#remaining, end - i);
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#state = Chunk.DataCr;
          continue;
        }
        case Chunk.Done:
          return i;
        default:
          this.#step(buffer[i] as number);
          i++;
          if (this.done) return i;
      }
    }
    return i;
  }

  #step(byte: number): void {
    switch (this.#state) {
      case Chunk.Size: {
        const digit = hexValue(byte);
        if (digit !== -1) {
          if (++this.#sizeDigits > MAX_SIZE_DIGITS) return this.#fail('chunk size too large');
          this.#size = this.#size * 16 + digit;
          return;
        }
        if (this.#sizeDigits === 0) return this.#fail('invalid chunk size');
        if (byte === 0x0d) this.#state = Chunk.SizeLf;
        else if (byte === 0x3b) this.#state = Chunk.SizeExtension;
        else if (byte === 0x20 || byte === 0x09) this.#state = Chunk.SizeSpace;
        else this.#fail('invalid chunk size');
        return;
      }
      // RFC 9112 §7.1.1: only whitespace, then a chunk extension (`;`) or the line end.
      case Chunk.SizeSpace:
        if (byte === 0x0d) this.#state = Chunk.SizeLf;
        else if (byte === 0x3b) this.#state = Chunk.SizeExtension;
        else if (byte !== 0x20 && byte !== 0x09) this.#fail('invalid chunk size');
        return;
      case Chunk.SizeExtension:
        if (byte === 0x0d) this.#state = Chunk.SizeLf;
        else if (byte !== 0x09 && (byte < 0x20 || byte === 0x7f)) this.#fail('invalid chunk extension');
        return;
      case Chunk.SizeLf:
        if (byte !== 0x0a) return this.#fail('bare CR in chunk size line');
        if (this.#size === 0) {
          this.#state = Chunk.TrailerStart;
        } else {
          this.#remaining = this.#size;
          this.#state = Chunk.Data;
        }
        this.#size = 0;
        this.#sizeDigits = 0;
        return;
      case Chunk.DataCr:
        if (byte !== 0x0d) return this.#fail('chunk data longer than its size');
        this.#state = Chunk.DataLf;
        return;
      case Chunk.DataLf:
        if (byte !== 0x0a) return this.#fail('bare CR after chunk data');
        this.#state = Chunk.Size;
        return;
      case Chunk.TrailerStart:
        if (byte === 0x0d) {
          this.#state = Chunk.FinalLf;
          return;
        }
        this.#state = Chunk.TrailerLine;
        return this.#trailerByte(byte);
      case Chunk.TrailerLine:
        return this.#trailerByte(byte);
      case Chunk.TrailerLf:
        if (byte !== 0x0a) return this.#fail('bare CR in a trailer field');
        this.#state = Chunk.TrailerStart;
        return;
      case Chunk.FinalLf:
        if (byte !== 0x0a) return this.#fail('bare CR at the end of a chunked body');
        this.#state = Chunk.Done;
        return;
      default:
        return;
    }
  }

  #trailerByte(byte: number): void {
    if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail('trailer section too large');
    if (byte === 0x0d) this.#state = Chunk.TrailerLf;
    else if (byte !== 0x09 && (byte < 0x20 || byte === 0x7f)) this.#fail('invalid character in a trailer field');
  }

  #fail(reason: string): void {
    this.error = reason;
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** How the body of `response` to a `method` request ends (RFC 9112 §6.3). */
export function responseScanner(method: string, response: ResponseHead, maxTrailerBytes: number): BodyScanner {
  if (method === 'HEAD' || response.status === 204 || response.status === 304) return new LengthScanner(0);
  if (response.chunked) return new ChunkedScanner(maxTrailerBytes);
  if (response.contentLength >= 0) return new LengthScanner(response.contentLength);
  return new CloseDelimitedScanner();
}
