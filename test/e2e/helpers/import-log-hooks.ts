/**
 * Module-resolution hooks that append every resolved module URL to the file named by
 * PLEXUS_TEST_IMPORT_LOG, one per line: lets a test see what a real `plexus` process loaded.
 * Registered by import-log.ts through `node --import`.
 */
import { appendFileSync } from 'node:fs';

interface ResolveResult {
  readonly url: string;
}
type NextResolve = (specifier: string, context: unknown) => Promise<ResolveResult>;

const logFile = process.env.PLEXUS_TEST_IMPORT_LOG;

export async function resolve(specifier: string, context: unknown, next: NextResolve): Promise<ResolveResult> {
  const result = await next(specifier, context);
  if (logFile) appendFileSync(logFile, `${result.url}\n`);
  return result;
}
