/// <reference lib="dom" />
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { getRawEventModel } from '@analytics/common';
import { DESKTOP_CHROME_UA, launchChromium, REPO_ROOT, type TestSite, waitFor } from '@analytics/testkit';
import { queryRows } from '../support/foreign-clients';
import { waitForDrain } from '../support/recount';
import { startSystem, type TestSystem } from '../support/system';

/**
 * The tracker tag on a page of another site, in a real Chromium: the page is served from 127.0.0.1 and
 * the tag from `localhost`, so every request the tag makes is cross-origin, as on a real site.
 */
let system: TestSystem;
let browser: Browser;
let pages: http.Server;
let pageOrigin = '';

/** Page HTML per path; `{{tag}}` is replaced by the script tag of the test's site. */
const PAGE = (title: string, head = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title>${head}{{tag}}</head><body><h1>${title}</h1></body></html>`;

const ESM_BUILD = path.join(REPO_ROOT, 'tracker', 'dist', 'index.js');

/** The script tag the pages carry now (each case sets its site's). */
let currentTag = '';

function serve(html: Record<string, string>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/tracker.js') {
      // The ES module build, as a bundler or a module script would load it.
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(fs.readFileSync(ESM_BUILD));
      return;
    }
    const body = html[path];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      .end(body.replace('{{tag}}', currentTag));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  system = await startSystem();
  browser = await launchChromium();
  pages = await serve({
    '/shop/': PAGE('shop'),
    '/owned/': PAGE('owned', '<script>window.analytics = { owner: "segment" };</script>'),
    '/spa/': PAGE('spa'),
    '/esm/': PAGE('esm'),
  });
  pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => pages?.close(resolve));
  await system?.close();
});

interface Visit {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

/** Opens `path` with the site's tag in a fresh context with a real browser's user agent; collects errors. */
async function visit(site: TestSite, path: string, tagAttributes = ''): Promise<Visit> {
  const scriptUrl = system.ingestUrl.replace('127.0.0.1', 'localhost');
  currentTag = `<script defer src="${scriptUrl}/js/script.js" data-site-id="${site.siteId}" data-write-key="${site.writeKey}" ${tagAttributes}></script>`;
  const context = await browser.newContext({ userAgent: DESKTOP_CHROME_UA });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`),
  );
  // Arriving from a search, as most visits do: the referrer and source of the visit.
  await page.goto(`${pageOrigin}${path}`, { referer: 'https://www.google.com/search?q=shop' });
  await page.waitForFunction(() => document.readyState === 'complete');
  return { context, page, problems };
}

/** The site's stored events once the queue has drained, oldest first. */
async function storedEvents(site: TestSite, count: number) {
  const model = getRawEventModel(system.ingestion.mongo);
  return waitFor(
    async () => {
      await waitForDrain(system.queue);
      const events = await model.find({ site_id: site.siteId }).sort({ received_at: 1, event_id: 1 }).lean();
      return events.length >= count ? events : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: `${count} events of the page to be stored` },
  );
}

describe('the tracker tag in Chromium', () => {
  it('when a page loads, navigates with pushState and tracks an event, then each is stored once, with no console error', async () => {
    const site = await system.newSite();
    const { context, page, problems } = await visit(site, '/shop/');
    await page.waitForFunction(
      () => typeof (window as unknown as { analytics?: unknown }).analytics === 'object',
    );
    await page.evaluate(() => history.pushState({}, '', '/shop/cart?step=1'));
    await page.evaluate(() => history.replaceState({}, '', '/shop/cart?step=1')); // same path: no view
    await page.evaluate(() =>
      (window as unknown as { analytics: { track: (n: string, p: object) => void } }).analytics.track(
        'signup',
        {
          plan: 'pro',
          seats: 3,
        },
      ),
    );
    const events = await storedEvents(site, 3);
    await page.waitForTimeout(300);
    await context.close();
    expect(problems).toEqual([]);
    expect(events.map((e) => [e.event_type, e.path])).toEqual([
      ['page_view', '/shop/'],
      ['page_view', '/shop/cart'],
      ['signup', '/shop/cart'],
    ]);
    expect(events[2]!.props).toEqual([
      { key: 'plan', value: 'pro' },
      { key: 'seats', value: 3 },
    ]);
    expect(await getRawEventModel(system.ingestion.mongo).countDocuments({ site_id: site.siteId })).toBe(3);

    // Every event through the query API, with its path, referrer, device and browser.
    expect(
      await queryRows(
        system,
        site,
        ['visitors', 'pageviews', 'events'],
        ['event:name', 'event:page', 'visit:device'],
      ),
    ).toEqual({
      'page_view | /shop/ | desktop': [1, 1, 1],
      'page_view | /shop/cart | desktop': [1, 1, 1],
      'signup | /shop/cart | desktop': [1, 0, 1],
    });
    expect(
      await queryRows(system, site, ['visitors', 'pageviews'], ['visit:referrer', 'visit:source']),
    ).toEqual({
      'www.google.com/search | Google': [1, 2],
    });
    expect(
      await queryRows(
        system,
        site,
        ['visitors', 'visits', 'bounce_rate'],
        ['visit:browser', 'visit:entry_page'],
      ),
    ).toEqual({
      'Chrome | /shop/': [1, 1, 0],
    });
  });

  it('when the visitor opted out in localStorage, then nothing is sent', async () => {
    const site = await system.newSite();
    const opted = await visit(site, '/spa/');
    await opted.page.evaluate(() => window.localStorage.setItem('analytics_ignore', 'true'));
    await opted.page.evaluate(() => history.pushState({}, '', '/spa/secret'));
    await opted.page.evaluate(() => window.localStorage.removeItem('analytics_ignore'));
    await opted.page.evaluate(() => history.pushState({}, '', '/spa/public'));
    const events = await storedEvents(site, 2);
    await opted.context.close();
    expect(opted.problems).toEqual([]);
    expect(events.map((e) => e.path)).toEqual(['/spa/', '/spa/public']);
  });

  it('when another script owns window.analytics, then it is left alone and the tag answers on window.analyticsTracker', async () => {
    const site = await system.newSite();
    const { context, page, problems } = await visit(site, '/owned/');
    await page.waitForFunction(
      () => typeof (window as unknown as { analyticsTracker?: unknown }).analyticsTracker === 'object',
    );
    const owner = await page.evaluate(
      () => (window as unknown as { analytics: { owner?: string } }).analytics.owner,
    );
    await page.evaluate(() =>
      (window as unknown as { analyticsTracker: { track: (n: string) => void } }).analyticsTracker.track(
        'clicked',
      ),
    );
    const events = await storedEvents(site, 2);
    await context.close();
    expect(owner).toBe('segment');
    expect(problems).toEqual([]);
    expect(events.map((e) => e.event_type)).toEqual(['page_view', 'clicked']);
  });

  it('when the site routes with the hash and has data-hash, then each hash change is a page view', async () => {
    const site = await system.newSite();
    const { context, page, problems } = await visit(site, '/spa/', 'data-hash');
    await storedEvents(site, 1);
    await page.evaluate(() => {
      window.location.hash = '#/settings';
    });
    const events = await storedEvents(site, 2);
    await context.close();
    expect(problems).toEqual([]);
    // The fragment stays in the path under data-hash (contract Part 2), only there.
    expect(events.map((e) => [e.event_type, e.path])).toEqual([
      ['page_view', '/spa/'],
      ['page_view', '/spa/#/settings'],
    ]);
  });

  it('when a site bundles the ES module instead of the tag, then init and track send the same events', async () => {
    const site = await system.newSite();
    const endpoint = system.ingestUrl.replace('127.0.0.1', 'localhost');
    const { context, page, problems } = await visit(site, '/esm/', 'data-unused');
    // The page's own tag is for another site id: this case only counts what the module sends.
    currentTag = '';
    await page.goto(`${pageOrigin}/esm/`);
    await page.addScriptTag({
      type: 'module',
      content: `import { init, track } from '/tracker.js';
        init({ endpoint: '${endpoint}', siteId: '${site.siteId}', writeKey: '${site.writeKey}' });
        track('from-module', { ok: true });`,
    });
    const events = await storedEvents(site, 3);
    await context.close();
    expect(problems).toEqual([]);
    // The tag's view on the first load, then the module's view and event.
    expect(events.map((e) => [e.event_type, e.path])).toEqual([
      ['page_view', '/esm/'],
      ['page_view', '/esm/'],
      ['from-module', '/esm/'],
    ]);
  });
});
