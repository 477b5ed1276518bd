/**
 * Debian's Chromium for the browser tests: installed with apt-get when missing and the tests run
 * as root (CI on this machine); otherwise the caller skips with the reason returned.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
/** How the tests start it (with playwright-core's headless mode). */
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

function aptGet(args: readonly string[]): boolean {
  const result = spawnSync('apt-get', [...args], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 15 * 60_000 });
  return result.status === 0;
}

/** Null when Chromium is there (installing it if needed), else why it cannot be. */
export function ensureChromium(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return `${CHROMIUM} is missing and these tests are not root: run apt-get install -y chromium`;
  if (!aptGet(['install', '-y', 'chromium'])) aptGet(['update']) && aptGet(['install', '-y', 'chromium']);
  return existsSync(CHROMIUM) ? null : `apt-get install -y chromium did not install ${CHROMIUM}`;
}
