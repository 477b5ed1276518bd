/**
 * The messages between the manifest parser thread (parse-worker.ts) and its client (parser.ts).
 * Objects come back in batches, each sent only when the client asked for the next one, so the
 * serving thread takes them in small pieces between requests instead of all at once.
 */
import { createHash } from 'node:crypto';
import type { LocatedObject } from './documents.js';
import type { ManifestError } from './errors.js';

/** The content hash that decides "unchanged" (the worker's and the client's own reads alike). */
export function manifestHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Objects per batch: small enough that taking one is quick on the serving thread. */
export const BATCH_OBJECTS = 1000;

/** Client → worker: parse these bytes (transferred), or say they hash to `previousHash`. */
export interface ParseRequest {
  readonly kind: 'parse';
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly previousHash: string | null;
}

/** Client → worker: send the next batch. */
export interface NextBatch {
  readonly kind: 'next';
}

export type ToWorker = ParseRequest | NextBatch;

export type FromWorker =
  /** The content hashes to the previous hash: not parsed. */
  | { readonly kind: 'unchanged'; readonly hash: string }
  | { readonly kind: 'objects'; readonly objects: readonly LocatedObject[] }
  | { readonly kind: 'done'; readonly hash: string; readonly errors: readonly ManifestError[] }
  | { readonly kind: 'failed'; readonly message: string };
