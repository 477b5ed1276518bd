/**
 * Runs in a client pod (`node load.mjs URL MAX_REQUESTS MAX_SECONDS CONCURRENCY [STOP_FILE]`):
 * HTTP GETs of URL, CONCURRENCY at a time, until MAX_REQUESTS were sent, MAX_SECONDS passed or
 * STOP_FILE exists. Each request has 5 s. Prints one JSON line: how many were sent, the answers
 * by status, the answering pods, and failures by cause with the first few in full.
 */
import { existsSync } from 'node:fs';

const [url = '', maxRequestsText = '100', maxSecondsText = '60', concurrencyText = '1', stopFile = ''] = process.argv.slice(2);
const maxRequests = Number(maxRequestsText);
const deadline = Date.now() + Number(maxSecondsText) * 1000;
const statuses: Record<string, number> = {};
const answeredBy: Record<string, number> = {};
const errors: Record<string, number> = {};
const firstFailures: string[] = [];
let sent = 0;
let stopped = false;

function failure(what: string, detail: string): void {
  errors[what] = (errors[what] ?? 0) + 1;
  if (firstFailures.length < 10) firstFailures.push(`${new Date().toISOString()} ${detail}`);
}

async function one(): Promise<void> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = (await res.text()).trim();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    if (res.status === 200) answeredBy[body] = (answeredBy[body] ?? 0) + 1;
    else if (res.status >= 500) failure(`status ${res.status}`, `${res.status} ${body.slice(0, 200)}`);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    failure(cause, `${cause}: ${(err as Error).message}`);
  }
}

async function worker(): Promise<void> {
  while (!stopped && sent < maxRequests && Date.now() < deadline) {
    if (stopFile !== '' && existsSync(stopFile)) {
      stopped = true;
      break;
    }
    sent += 1;
    await one();
  }
}

await Promise.all(Array.from({ length: Number(concurrencyText) }, worker));
console.log(JSON.stringify({ sent, statuses, answeredBy, errors, firstFailures, stopped }));
