/// <reference lib="dom" />
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { DESKTOP_CHROME_UA, launchChromium, REPO_ROOT, type TestSite } from '@analytics/testkit';
import { queryRows, setSiteDomains, statsOf, storedEvents } from '../support/foreign-clients';
import { startSystem, type TestSystem } from '../support/system';

/**
 * Plausible's own tracker (the `@plausible-analytics/tracker` package, unmodified) on a page of a
 * registered domain, in a real Chromium. The script ignores localhost and 127.x hosts and browsers that
 * say they are automated (`navigator.webdriver`), so Chromium maps `shop.example` and `ingest.example`
 * to 127.0.0.1 (--host-resolver-rules) and does not announce automation.
 */
const TRACKER = path.join(REPO_ROOT, 'node_modules', '@plausible-analytics', 'tracker', 'plausible.js');
const PAGE_HOST = 'shop.example';
const INGEST_HOST = 'ingest.example';

let system: TestSystem;
let browser: Browser;
let pages: http.Server;
let site: TestSite;
let pageOrigin = '';
let endpoint = '';

function page(title: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title>
<script type="module">
import { init, track } from '/plausible.js';
init({ domain: '${PAGE_HOST}', endpoint: '${endpoint}' });
window.plausibleTrack = track;
</script></head><body><h1>${title}</h1><p style="height:3000px">long page</p></body></html>`;
}

beforeAll(async () => {
  system = await startSystem();
  site = await system.newSite();
  await setSiteDomains(system, site, [PAGE_HOST]);
  const ingestPort = new URL(system.ingestUrl).port;
  endpoint = `http://${INGEST_HOST}:${ingestPort}/api/event`;
  pages = http.createServer((req, res) => {
    const route = (req.url ?? '/').split('?')[0]!;
    if (route === '/plausible.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(fs.readFileSync(TRACKER));
    } else if (route === '/' || route === '/pricing') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page(route));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', () => resolve()));
  pageOrigin = `http://${PAGE_HOST}:${(pages.address() as AddressInfo).port}`;
  browser = await launchChromium([
    `--host-resolver-rules=MAP ${PAGE_HOST} 127.0.0.1, MAP ${INGEST_HOST} 127.0.0.1`,
    '--disable-blink-features=AutomationControlled',
  ]);
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => pages?.close(resolve));
  await system?.close();
});

describe("Plausible's tracker in Chromium", () => {
  it('when a page loads, navigates with pushState and tracks a goal, then two page views and the goal are stored once each, with no console error', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_CHROME_UA });
    const tab = await context.newPage();
    const problems: string[] = [];
    const posted: number[] = [];
    const names: string[] = [];
    tab.on('request', (request) => {
      if (request.url() === endpoint && request.method() === 'POST') {
        names.push((JSON.parse(request.postData() ?? '{}') as { n?: string }).n ?? '');
      }
    });
    tab.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        problems.push(`console: ${message.text()}`);
    });
    tab.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    tab.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    tab.on('response', (response) => {
      if (response.url() === endpoint) posted.push(response.status());
    });
    await tab.goto(`${pageOrigin}/`, { referer: 'https://news.ycombinator.com/item?id=42' });
    await tab.waitForFunction(
      () => typeof (window as unknown as { plausibleTrack?: unknown }).plausibleTrack === 'function',
    );
    expect(await tab.evaluate(() => navigator.webdriver)).toBe(false);
    await tab.evaluate(() => history.pushState({}, '', '/pricing?utm_source=newsletter&utm_campaign=winter'));
    await tab.evaluate(() =>
      (window as unknown as { plausibleTrack: (n: string, o: object) => void }).plausibleTrack('Signup', {
        props: { plan: 'pro', seats: '3' },
      }),
    );
    const events = await storedEvents(system, site.siteId, 3);
    // leaving the page sends Plausible's engagement event: accepted, never stored
    await tab.evaluate(() => window.dispatchEvent(new Event('blur')));
    await context.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(problems).toEqual([]);
    expect(posted.every((status) => status === 202)).toBe(true);
    // the script's own payloads: three events and at least one engagement, all answered 202
    expect(names.filter((n) => n !== 'engagement')).toEqual(['pageview', 'pageview', 'Signup']);
    expect(names).toContain('engagement');
    expect(posted).toHaveLength(names.length);

    const again = await storedEvents(system, site.siteId, 3);
    expect(again).toHaveLength(3);
    const ordered = [...events].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
    expect(ordered.map((e) => [e.event_type, e.path])).toEqual([
      ['page_view', '/'],
      ['page_view', '/pricing'],
      ['Signup', '/pricing'],
    ]);
    expect(ordered[0]).toMatchObject({
      source: 'Hacker News',
      referrer: 'news.ycombinator.com/item',
      browser: 'Chrome',
      device: 'desktop',
    });
    expect(ordered[1]).toMatchObject({
      utm_source: 'newsletter',
      utm_campaign: 'winter',
      source: 'newsletter',
    });
    expect(ordered[2]!.props).toEqual({ plan: 'pro', seats: '3' });
    expect(new Set(ordered.map((e) => e.visitor)).size).toBe(1);
    expect(ordered.every((e) => e.user_id === undefined)).toBe(true);
    expect(await statsOf(system, site, ordered[0]!.day)).toMatchObject({
      total_views: 2,
      unique_users: 0,
      top_paths: [
        { path: '/', views: 1 },
        { path: '/pricing', views: 1 },
      ],
    });
    // Through the query API: one visitor, one visit from Hacker News entering at / and leaving at /pricing.
    expect(
      await queryRows(
        system,
        site,
        ['visitors', 'visits', 'pageviews', 'bounce_rate'],
        ['visit:source', 'visit:entry_page', 'visit:exit_page'],
      ),
    ).toEqual({ 'Hacker News | / | /pricing': [1, 1, 2, 0] });
    expect(await queryRows(system, site, ['visitors', 'events'], ['event:name', 'event:props:plan'])).toEqual(
      {
        'Signup | pro': [1, 1],
      },
    );
  });
});
