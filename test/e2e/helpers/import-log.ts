/**
 * `node --import` entry: registers import-log-hooks.ts in the process it starts (ES modules), and
 * at exit adds the CommonJS modules the process required (packages such as prom-client load
 * their own files with require(), which the hooks do not see).
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

register('./import-log-hooks.js', import.meta.url);

const logFile = process.env.PLEXUS_TEST_IMPORT_LOG;
const required = createRequire(import.meta.url).cache;
process.on('exit', () => {
  if (logFile) appendFileSync(logFile, Object.keys(required).map((path) => `${path}\n`).join(''));
});
