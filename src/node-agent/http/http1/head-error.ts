/** Why a message head was rejected: the status the proxy answers with and a short reason. */
export class HeadError extends Error {
  constructor(readonly status: 400 | 431 | 502, message: string) {
    super(message);
    this.name = 'HeadError';
  }
}
