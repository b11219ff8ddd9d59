/**
 * Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core, which never
 * downloads a browser) for loading the flame graph page with the network shut.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FlamePageData } from '../../src/report/flame-page.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The only URL the page may load: served from memory by the route below. */
export const PAGE_URL = 'http://flame-page.test/page.html';

/** Starts headless Chromium; close() it in afterAll. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page loaded in Chromium, with everything it tried that a self-contained page must not do. */
export interface LoadedPage {
  readonly page: Page;
  /** Uncaught exceptions and console errors. */
  readonly errors: string[];
  /** Requests other than the page itself; each was refused. */
  readonly strayRequests: string[];
  /** Milliseconds from navigation to the end of the first render, as the page measured it. */
  readonly renderMs: number;
}

/**
 * Loads the HTML as PAGE_URL with every other request refused, and waits until the page says
 * it has drawn (body[data-ready]).
 */
export async function loadPage(browser: Browser, html: string | Buffer, viewport = { width: 1280, height: 900 }): Promise<LoadedPage> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const strayRequests: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('websocket', (ws) => strayRequests.push(ws.url()));
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === PAGE_URL) return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
    strayRequests.push(url);
    return route.abort('blockedbyclient');
  });
  await page.goto(PAGE_URL);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  const renderMs = await page.evaluate(() => (globalThis as unknown as { kubectlProfefe: { renderMs: number } }).kubectlProfefe.renderMs);
  return { page, errors, strayRequests, renderMs };
}

/** The data embedded in a page, parsed back. */
export function embeddedData(html: string): FlamePageData {
  const m = /<script type="application\/json" id="profile-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no profile-data script in the page');
  return JSON.parse(m[1]!) as FlamePageData;
}

/**
 * Waits until the flame graph's d3 transitions have ended (d3 removes a node's `__transition`
 * once its last one is done), however slowly a loaded machine runs them.
 */
export async function transitionsDone(page: Page): Promise<void> {
  await page.waitForFunction(`!Array.from(document.querySelectorAll('#flame-graph *')).some((e) => '__transition' in e)`);
}
