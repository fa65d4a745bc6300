/// <reference lib="dom" />
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DESKTOP_CHROME_UA, launchChromium, REPO_ROOT, type TestSite } from '@analytics/testkit';
import { waitForDrain } from '../support/recount';
import { configureSite, query } from '../support/query-client';
import { startSystem, type TestSystem } from '../support/system';

/**
 * The dashboard reporting serves at GET /, in a real Chromium: events go in through ingestion, the page
 * is opened with a site id and read key, and what it shows is checked against POST /api/v2/query.
 * Every run saves the desktop and phone screenshots under artifacts/screenshots/ (SCREENSHOT_DIR overrides;
 * CI keeps them as artifacts); DASHBOARD_SCREENSHOTS=1 also rewrites docs/dashboard.png and
 * docs/dashboard-mobile.png.
 */
let system: TestSystem;
let browser: Browser;
let site: TestSite;

const TIMEZONE = 'Europe/Berlin';
const HOUR = 3_600_000;
const MIN = 60_000;
const DAY = 24 * HOUR;
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const HEADLINE = ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'];

let n = 0;
function pageview(
  pathname: string,
  at: number,
  who: { ip: string; ua: string },
  referrer?: string,
): Record<string, unknown> {
  n += 1;
  return {
    event_id: `dash-${n}`,
    event_type: 'page_view',
    path: pathname,
    timestamp: new Date(at).toISOString(),
    ...(referrer && { referrer }),
    context: { ip: who.ip, user_agent: who.ua },
  };
}

beforeAll(async () => {
  system = await startSystem({ ingestionEnv: { MAX_EVENT_AGE_HOURS: '480' } });
  browser = await launchChromium();
  site = await system.newSite();
  await configureSite(system, site, { timezone: TIMEZONE });
  // Anchored an hour before now, so every event of "the last 7 days" is in the past; one visitor
  // 9 days back is in the previous period of 7d and inside 30d.
  const now = Date.now() - HOUR;
  const desktop = { ip: '203.0.113.10', ua: DESKTOP_CHROME_UA };
  const phone = { ip: '198.51.100.20', ua: IPHONE };
  const windows = { ip: '192.0.2.30', ua: FIREFOX_WINDOWS };
  const earlier = { ip: '203.0.113.40', ua: DESKTOP_CHROME_UA };
  const events = [
    pageview('/', now - 3 * DAY, desktop, 'https://news.ycombinator.com/item?id=1'),
    pageview('/pricing', now - 3 * DAY + 2 * MIN, desktop),
    pageview('/docs', now - 3 * DAY + 5 * MIN, desktop),
    pageview('/', now - DAY, phone, 'https://www.google.com/search?q=analytics'),
    pageview('/pricing', now - 10 * MIN, windows),
    pageview('/', now - 9 * MIN, windows),
    pageview('/', now - 9 * DAY, earlier),
  ];
  const res = await system.ingest
    .post('/events')
    .set('x-api-key', site.writeKey)
    .send({ events: events.map((e) => ({ site_id: site.siteId, ...e })) });
  expect(res.status).toBe(202);
  await waitForDrain(system.queue);
});
afterAll(async () => {
  await browser?.close();
  await system?.close();
});

interface Tab {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
}

async function open(viewport = { width: 1280, height: 900 }): Promise<Tab> {
  const context = await browser.newContext({ userAgent: DESKTOP_CHROME_UA, viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Init scripts run outside the page's CSP, so this sees every violation the page causes.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  await page.goto(`${system.reportUrl}/`);
  return { context, page, problems };
}

async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
}

async function signIn(page: Page, siteId: string, readKey: string): Promise<void> {
  await page.getByLabel('Site id').fill(siteId);
  await page.getByLabel('Read key').fill(readKey);
  await page.getByRole('button', { name: 'Show statistics' }).click();
}

/** Waits until the report has loaded for the current range (not busy, totals shown). */
async function loaded(page: Page): Promise<void> {
  await page.waitForSelector('#report[aria-busy="false"] #headline li[data-metric="visitors"]', {
    timeout: 15_000,
  });
}

async function textContains(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([s, t]) => document.querySelector(s!)?.textContent?.includes(t!) === true,
    [selector, text],
    { timeout: 15_000 },
  );
}

async function headline(page: Page): Promise<Record<string, number>> {
  return page.$$eval('#headline li', (items) =>
    Object.fromEntries(items.map((li) => [li.dataset.metric!, Number(li.dataset.value)])),
  );
}

const totalsFromApi = async (range: string) => {
  const answer = await query(system.report, site, {
    metrics: HEADLINE,
    date_range: range,
    include: { comparisons: { mode: 'previous_period' } },
  });
  return answer.results[0]!;
};

/** Where every run leaves its screenshots (CI artifacts; docs/dashboard.md). */
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? path.join(REPO_ROOT, 'artifacts', 'screenshots');

async function saveScreenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.DASHBOARD_SCREENSHOTS === '1') fs.copyFileSync(file, path.join(REPO_ROOT, 'docs', name));
}

describe('the dashboard in Chromium', () => {
  it('when a reader signs in, then the totals, the change, the chart and the top lists equal the query API, with no console error or CSP violation', async () => {
    const { context, page, problems } = await open();
    const response = await page.request.get(`${system.reportUrl}/`);
    const csp = response.headers()['content-security-policy']!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');

    await signIn(page, site.siteId, site.readKey);
    await loaded(page);
    await expect(page.locator('#site-zone').textContent()).resolves.toBe(TIMEZONE);

    // 7 days: three visitors (desktop 3 views, phone 1, windows 2), three visits, one bounce
    const api = await totalsFromApi('7d');
    expect(api.metrics.slice(0, 4)).toEqual([3, 3, 6, 33.3]);
    const shown = await headline(page);
    expect(HEADLINE.map((m) => shown[m])).toEqual(api.metrics);
    const visitorsText = await page.locator('#headline li[data-metric="visitors"] .value').textContent();
    expect(visitorsText).toBe('3');
    // the previous period had one visitor: +200 %
    expect(api.comparison!.change[0]).toBe(200);
    await expect(
      page.locator('#headline li[data-metric="visitors"] .change').textContent(),
    ).resolves.toContain('▲ 200%');

    // top pages, in the API's order, with their visitors
    const pages = await query(system.report, site, {
      metrics: ['visitors', 'pageviews', 'percentage'],
      date_range: '7d',
      dimensions: ['event:page'],
      pagination: { limit: 10, offset: 0 },
    });
    const rows = await page.$$eval('#list-pages tbody tr', (trs) =>
      trs.map((tr) => [tr.dataset.key, ...[...tr.querySelectorAll('td.num')].map((td) => td.textContent)]),
    );
    expect(rows).toEqual(
      pages.results.map((r) => [r.dimensions[0], String(r.metrics[0]), String(r.metrics[1])]),
    );
    expect(rows.map((r) => r[0])).toEqual(['/', '/pricing', '/docs']);
    const sources = await page.$$eval('#list-sources tbody tr', (trs) => trs.map((tr) => tr.dataset.key));
    expect(sources.sort()).toEqual(['Direct / None', 'Google', 'Hacker News']);
    const devices = await page.$$eval('#list-devices tbody tr', (trs) => trs.map((tr) => tr.dataset.key));
    expect(devices.sort()).toEqual(['desktop', 'mobile']);

    // the chart: a drawn canvas of the page's width, and its data table has a row per day of the range
    const canvas = await page.$eval('#chart canvas', (c) => {
      const el = c as HTMLCanvasElement;
      const pixels = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted += 1;
      return { width: el.width, height: el.height, painted };
    });
    expect(canvas.width).toBeGreaterThan(600);
    expect(canvas.height).toBeGreaterThan(100);
    expect(canvas.painted).toBeGreaterThan(500);
    expect(await page.locator('#chart-table tbody tr').count()).toBe(7);

    // the key lives in sessionStorage only, and survives a reload of the tab
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('analytics-dashboard.read_key'),
      local: JSON.stringify(localStorage),
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ session: site.readKey, local: '{}', cookies: '' });
    await page.reload();
    await loaded(page);

    // another range: 30 days also holds the visitor of 9 days ago
    await page.getByLabel('Date range').selectOption('30d');
    await page.waitForFunction(() => document.querySelector('#chart-table tbody')?.children.length === 30);
    await loaded(page);
    const month = await totalsFromApi('30d');
    expect(month.metrics[0]).toBe(4);
    const shownMonth = await headline(page);
    expect(HEADLINE.map((m) => shownMonth[m])).toEqual(month.metrics);

    await page.getByLabel('Date range').selectOption('7d');
    await page.waitForFunction(() => document.querySelector('#chart-table tbody')?.children.length === 7);
    await loaded(page);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await saveScreenshot(page, 'dashboard.png');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('when the read key is wrong, then the form says to check the read key, and nothing is stored', async () => {
    const { context, page, problems } = await open();
    await signIn(page, site.siteId, 'not-the-read-key');
    await textContains(page, '#sign-in-error', 'check the read key');
    expect(await page.locator('#report').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('analytics-dashboard.read_key'))).toBeNull();
    // the browser itself logs the refused request; nothing else may appear
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    await context.close();
  });

  it('when reporting does not answer, then the page says to try again, and Try again loads once it answers', async () => {
    const { context, page } = await open();
    await signIn(page, site.siteId, site.readKey);
    await loaded(page);
    await page.route('**/api/v2/query', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await textContains(page, '#error-text', 'Reporting is not answering; try again');
    expect(await page.locator('#error').isVisible()).toBe(true);
    await page.unroute('**/api/v2/query');
    await page.getByRole('button', { name: 'Try again' }).click();
    await loaded(page);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect((await headline(page)).visitors).toBe(3);
    await context.close();
  });

  it('when the page is 360 px wide, then nothing scrolls sideways and every part is shown', async () => {
    const { context, page, problems } = await open({ width: 360, height: 800 });
    await signIn(page, site.siteId, site.readKey);
    await loaded(page);
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
      chart: document.querySelector('#chart canvas')?.getBoundingClientRect().right ?? 0,
    }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    expect(widths.chart).toBeLessThanOrEqual(360);
    expect(await page.locator('#list-os tbody tr').count()).toBeGreaterThan(0);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await saveScreenshot(page, 'dashboard-mobile.png');
    expect(problems).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    await context.close();
  });

  it('when only the keyboard is used, then Tab reaches every control with a visible focus ring', async () => {
    const { context, page, problems } = await open();
    /** Tabs up to `limit` times and returns the ids (or names) focused, each with its outline style. */
    const tabThrough = async (limit: number) => {
      const seen: { id: string; outline: string }[] = [];
      for (let i = 0; i < limit; i += 1) {
        await page.keyboard.press('Tab');
        seen.push(
          await page.evaluate(() => {
            const el = document.activeElement as HTMLElement;
            return { id: el.id || el.textContent || el.tagName, outline: getComputedStyle(el).outlineStyle };
          }),
        );
      }
      return seen;
    };
    // from the start of the page
    await page.waitForSelector('#site-id:focus');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const before = await tabThrough(5);
    const ids = before.map((f) => f.id);
    expect(ids).toEqual(expect.arrayContaining(['site-id', 'read-key', 'sign-in-button']));
    for (const f of before.filter((f) => ['site-id', 'read-key', 'sign-in-button'].includes(f.id))) {
      expect(f.outline).toBe('solid');
    }
    await page.locator('#site-id').focus();
    await page.keyboard.type(site.siteId);
    await page.keyboard.press('Tab');
    await page.keyboard.type(site.readKey);
    await page.keyboard.press('Enter');
    await loaded(page);
    // after sign-in the range picker has the focus; the keyboard changes the range
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('range');
    const after = await tabThrough(4);
    expect(after.map((f) => f.id)).toContain('refresh');
    expect(after.find((f) => f.id === 'refresh')!.outline).toBe('solid');
    await page.locator('#range').focus();
    await page.keyboard.press('ArrowDown'); // 7d → 28d
    await page.waitForFunction(() => document.querySelector('#chart-table tbody')?.children.length === 28);
    await loaded(page);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('when each shortcut of the contract is picked, then the totals and the chart buckets equal the query API', async () => {
    const { context, page, problems } = await open();
    await signIn(page, site.siteId, site.readKey);
    await loaded(page);
    const shortcuts = await page.$$eval('#range option', (options) =>
      options.map((o) => (o as HTMLOptionElement).value),
    );
    expect(shortcuts).toEqual(['day', '7d', '28d', '30d', 'month', '6mo', '12mo', 'year']);
    const bucket: Record<string, string> = { day: 'time:hour', '6mo': 'time:month', '12mo': 'time:month' };
    bucket.year = 'time:month';
    for (const range of shortcuts) {
      const series = await query(system.report, site, {
        metrics: ['visitors'],
        date_range: range,
        dimensions: [bucket[range] ?? 'time:day'],
        include: { time_labels: true },
      });
      const labels = series.meta.time_labels!.length;
      await page.getByLabel('Date range').selectOption(range);
      await page.waitForFunction(
        (count) => document.querySelector('#chart-table tbody')?.children.length === count,
        labels,
      );
      await loaded(page);
      const api = await totalsFromApi(range);
      const shown = await headline(page);
      expect([range, ...HEADLINE.map((m) => shown[m])]).toEqual([range, ...api.metrics]);
    }
    expect(problems).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    await context.close();
  });

  it('when an asset is asked again with its ETag, then it answers 304; the page names no other host', async () => {
    for (const url of ['/', '/assets/dashboard.js', '/assets/dashboard.css']) {
      const first = await system.report.get(url);
      expect(first.status).toBe(200);
      expect(first.headers['cache-control']).toBe('no-cache');
      expect(first.headers['content-security-policy']).toContain("default-src 'self'");
      const again = await system.report.get(url).set('if-none-match', first.headers.etag!);
      expect(again.status).toBe(304);
    }
    const html = fs.readFileSync(path.join(REPO_ROOT, 'reporting_service/dashboard/dist/index.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script>|<style|style="/);
    expect((await system.report.get('/assets/other.js')).status).toBe(404);
  });
});
