/** Shared helpers for the fake API server tests: decode client-node errors into Status objects. */
import { ApiException } from '@kubernetes/client-node';

export interface StatusBody {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  readonly details?: { readonly causes?: readonly { readonly field: string }[] };
}

/** Runs `call`, expects it to fail with an ApiException, and returns the server's Status. */
export async function statusOf(call: () => Promise<unknown>): Promise<StatusBody> {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    return body as StatusBody;
  }
  throw new Error('expected the call to fail');
}

/** Polls `check` until it returns a value (not undefined), up to `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
