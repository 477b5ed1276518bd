/**
 * `plexus dashboard` in a real headless Chromium (Debian's), driven by playwright-core: the page
 * loads from the CLI's loopback server, the graph shows the demo's Services with non-zero rates
 * and the unknown caller's edge in red, a click opens the stat table, the split weights and the
 * live requests. The screenshot is saved in test-output/dashboard.png.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../helpers/paths.js';
import { CHROMIUM, CHROMIUM_FLAGS, ensureChromium } from './helpers/chromium.js';
import { startDashboard } from './helpers/dashboard.js';
import { startDemo, type RunningDemo } from './helpers/demo-process.js';

const OUTPUT = join(REPO_ROOT, 'test-output');

describe('plexus dashboard in headless Chromium (the real binary, the demo)', function () {
  this.timeout(300_000);
  let demo: RunningDemo | null = null;
  let dashboard: ChildProcess | null = null;
  let browser: Browser | null = null;

  before(function () {
    const missing = ensureChromium();
    if (missing !== null) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
  });

  after(async () => {
    await browser?.close();
    dashboard?.kill('SIGINT');
    if (demo) expect(await demo.stop()).to.equal(0);
  });

  it('shows the demo mesh live: rates, the failing unknown caller, stat, split weights and live requests', async () => {
    demo = await startDemo('127.164.0.0/24');
    const started = startDashboard(['--admin', demo.adminUrl, '--duration', '300']);
    dashboard = started.child;
    const url = await started.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
    // Any request off this machine would fail the "every asset served locally" rule.
    page.on('request', (request) => { if (!request.url().startsWith(url)) problems.push(`request to ${request.url()}`); });
    await page.goto(url);
    // Expressions run in the page (this test is compiled without the DOM types).
    await page.waitForFunction(`Number(document.querySelector('g.node[data-key="shop/web"]')?.getAttribute('data-rps')) > 0`, null, { timeout: 120_000 });
    await page.waitForFunction(`Number(document.querySelector('g.edge[data-from="shop/frontend"][data-to="shop/web"]')?.getAttribute('data-rps')) > 0
      && document.querySelector('g.edge.failing[data-from="unknown"][data-to="shop/web"]') !== null`, null, { timeout: 60_000 });
    expect(await page.getAttribute('g.edge[data-from="shop/frontend"][data-to="shop/web"]', 'data-success')).to.equal('1.0000');
    await page.click('g.node[data-key="shop/web"]');
    await page.waitForSelector('#stat table', { timeout: 30_000 });
    await page.waitForFunction(`(document.querySelector('#routes')?.textContent ?? '').includes('shop/web-v1 90')`, null, { timeout: 30_000 });
    await page.waitForFunction(`document.querySelectorAll('#tap li').length >= 3`, null, { timeout: 60_000 });
    expect(await page.textContent('#routes')).to.contain('TrafficSplit shop/web-canary').and.contain('shop/web-v2 10');
    expect(await page.textContent('#tap')).to.match(/shop\/frontend → shop\/web:8080 GET \/ 200/);
    mkdirSync(OUTPUT, { recursive: true });
    const screenshot = join(OUTPUT, 'dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`      screenshot: ${screenshot}`);
    expect(problems).to.deep.equal([]);
  });
});
