/**
 * The dashboard reporting serves at GET /: asks for a site id and a read key (kept in sessionStorage
 * only), then shows the site's figures for a date range, all through POST /api/v2/query. Plain DOM, no
 * framework; every string from the API is set as text, never as HTML.
 */
import { ApiError, type Credentials, getSite, query, type QueryAnswer, type SiteInfo } from './api';
import { Chart } from './chart';
import {
  countryName,
  formatChange,
  formatCount,
  formatMetric,
  formatRange,
  formatTimeLabel,
  type Granularity,
  type MetricName,
} from './format';

const STORE_SITE = 'analytics-dashboard.site_id';
const STORE_KEY = 'analytics-dashboard.read_key';
const STORE_RANGE = 'analytics-dashboard.range';

/** The contract's shortcuts, with the chart's bucket for each. */
const RANGES: { value: string; label: string; granularity: Granularity }[] = [
  { value: 'day', label: 'Today', granularity: 'hour' },
  { value: '7d', label: 'Last 7 days', granularity: 'day' },
  { value: '28d', label: 'Last 28 days', granularity: 'day' },
  { value: '30d', label: 'Last 30 days', granularity: 'day' },
  { value: 'month', label: 'This month', granularity: 'day' },
  { value: '6mo', label: 'Last 6 months', granularity: 'month' },
  { value: '12mo', label: 'Last 12 months', granularity: 'month' },
  { value: 'year', label: 'This year', granularity: 'month' },
];
const DEFAULT_RANGE = '7d';

const HEADLINE: { metric: MetricName; label: string }[] = [
  { metric: 'visitors', label: 'Visitors' },
  { metric: 'visits', label: 'Visits' },
  { metric: 'pageviews', label: 'Page views' },
  { metric: 'bounce_rate', label: 'Bounce rate' },
  { metric: 'visit_duration', label: 'Visit duration' },
];

interface ListSpec {
  id: string;
  title: string;
  dimension: string;
  column: string;
  /** The second number shown, when there is one. */
  extra?: { metric: MetricName; label: string };
  name?: (value: string) => string;
}

const LISTS: ListSpec[] = [
  {
    id: 'pages',
    title: 'Top pages',
    dimension: 'event:page',
    column: 'Page',
    extra: { metric: 'pageviews', label: 'Views' },
  },
  { id: 'sources', title: 'Sources', dimension: 'visit:source', column: 'Source' },
  { id: 'countries', title: 'Countries', dimension: 'visit:country', column: 'Country', name: countryName },
  { id: 'devices', title: 'Devices', dimension: 'visit:device', column: 'Device' },
  { id: 'browsers', title: 'Browsers', dimension: 'visit:browser', column: 'Browser' },
  { id: 'os', title: 'Operating systems', dimension: 'visit:os', column: 'Operating system' },
];
const LIST_LENGTH = 10;

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className) element.className = props.className;
  if (props.text !== undefined) element.textContent = props.text;
  element.append(...children);
  return element;
}

const ui = {
  signIn: byId<HTMLElement>('sign-in'),
  form: byId<HTMLFormElement>('sign-in-form'),
  siteId: byId<HTMLInputElement>('site-id'),
  readKey: byId<HTMLInputElement>('read-key'),
  signInButton: byId<HTMLButtonElement>('sign-in-button'),
  signInError: byId<HTMLElement>('sign-in-error'),
  report: byId<HTMLElement>('report'),
  siteLine: byId<HTMLElement>('site-line'),
  siteName: byId<HTMLElement>('site-name'),
  siteZone: byId<HTMLElement>('site-zone'),
  signOut: byId<HTMLButtonElement>('sign-out'),
  range: byId<HTMLSelectElement>('range'),
  refresh: byId<HTMLButtonElement>('refresh'),
  rangeLine: byId<HTMLElement>('range-line'),
  status: byId<HTMLElement>('status'),
  error: byId<HTMLElement>('error'),
  errorText: byId<HTMLElement>('error-text'),
  retry: byId<HTMLButtonElement>('retry'),
  headline: byId<HTMLUListElement>('headline'),
  chartTable: byId<HTMLTableElement>('chart-table'),
  lists: byId<HTMLElement>('lists'),
};
const chart = new Chart(byId('chart'));

let credentials: Credentials | undefined;
let site: SiteInfo | undefined;
/** Each load has a number; an answer for an older load is dropped. */
let generation = 0;

function readStore(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}
function writeStore(key: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // storage refused (private mode): the key lives in this page only
  }
}

// ---------------------------------------------------------------- sign-in

function showSignIn(message = ''): void {
  generation += 1;
  credentials = undefined;
  site = undefined;
  chart.clear();
  ui.report.hidden = true;
  ui.siteLine.hidden = true;
  ui.signOut.hidden = true;
  ui.signIn.hidden = false;
  ui.signInError.textContent = message;
  ui.siteId.value = readStore(STORE_SITE) ?? ui.siteId.value;
  // A key still stored (reporting did not answer) is offered again: one press of the button retries.
  ui.readKey.value = readStore(STORE_KEY) ?? '';
  (!ui.siteId.value ? ui.siteId : !ui.readKey.value ? ui.readKey : ui.signInButton).focus();
}

async function openSite(candidate: Credentials, fromForm: boolean): Promise<void> {
  ui.signInButton.disabled = true;
  ui.signInError.textContent = '';
  if (fromForm) ui.status.textContent = '';
  try {
    const info = await getSite(candidate);
    credentials = candidate;
    site = info;
    writeStore(STORE_SITE, candidate.siteId);
    writeStore(STORE_KEY, candidate.readKey);
  } catch (error) {
    const message = error instanceof ApiError ? error.message : String(error);
    if (error instanceof ApiError && error.needsSignIn) writeStore(STORE_KEY, null);
    showSignIn(message);
    return;
  } finally {
    ui.signInButton.disabled = false;
  }
  ui.signIn.hidden = true;
  ui.report.hidden = false;
  ui.signOut.hidden = false;
  ui.siteLine.hidden = false;
  ui.siteName.textContent = site.name ? `${site.name} (${site.site_id})` : site.site_id;
  ui.siteZone.textContent = site.timezone ?? 'Etc/UTC';
  document.title = `${site.name ?? site.site_id} · Analytics dashboard`;
  await load();
  if (fromForm) ui.range.focus();
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const siteId = ui.siteId.value.trim();
  const readKey = ui.readKey.value.trim();
  if (!siteId || !readKey) {
    ui.signInError.textContent = !siteId ? 'Enter the site id.' : 'Enter the read key.';
    (!siteId ? ui.siteId : ui.readKey).focus();
    return;
  }
  void openSite({ siteId, readKey }, true);
});

ui.signOut.addEventListener('click', () => {
  writeStore(STORE_KEY, null);
  showSignIn();
});

// ---------------------------------------------------------------- the report

function selectedRange(): (typeof RANGES)[number] {
  return RANGES.find((r) => r.value === ui.range.value) ?? RANGES[1]!;
}

function setBusy(busy: boolean, text: string): void {
  ui.report.setAttribute('aria-busy', String(busy));
  ui.refresh.disabled = busy;
  ui.status.textContent = text;
}

function showError(message: string): void {
  ui.errorText.textContent = message;
  ui.error.hidden = false;
}

async function load(): Promise<void> {
  if (!credentials) return;
  const mine = ++generation;
  const range = selectedRange();
  const who = credentials;
  ui.error.hidden = true;
  setBusy(true, `Loading ${range.label.toLowerCase()}…`);
  const ask = (body: Record<string, unknown>) => query(who, { date_range: range.value, ...body });
  try {
    const [totals, series, ...lists] = await Promise.all([
      ask({
        metrics: HEADLINE.map((h) => h.metric),
        include: { comparisons: { mode: 'previous_period' } },
      }),
      ask({
        metrics: ['visitors', 'pageviews'],
        dimensions: [`time:${range.granularity}`],
        include: { time_labels: true },
      }),
      ...LISTS.map((list) =>
        ask({
          metrics: ['visitors', ...(list.extra ? [list.extra.metric] : []), 'percentage'],
          dimensions: [list.dimension],
          pagination: { limit: LIST_LENGTH, offset: 0 },
        }),
      ),
    ]);
    if (mine !== generation) return;
    renderHeadline(totals);
    renderSeries(series, range.granularity);
    LISTS.forEach((spec, i) => renderList(spec, lists[i]!));
    ui.rangeLine.textContent = `${formatRange(totals.query.date_range, site?.timezone ?? 'UTC')}, compared with the period just before`;
    setBusy(false, `Updated at ${new Date().toLocaleTimeString('en-GB')}.`);
  } catch (error) {
    if (mine !== generation) return;
    setBusy(false, '');
    if (error instanceof ApiError && error.needsSignIn) {
      writeStore(STORE_KEY, null);
      showSignIn(error.message);
      return;
    }
    showError(error instanceof Error ? error.message : String(error));
  }
}

function renderHeadline(answer: QueryAnswer): void {
  const row = answer.results[0];
  ui.headline.replaceChildren(
    ...HEADLINE.map(({ metric, label }, i) => {
      const value = row?.metrics[i] ?? 0;
      const change = formatChange(metric, row?.comparison?.change[i]);
      const item = el(
        'li',
        {},
        el('span', { className: 'label', text: label }),
        el('span', { className: 'value', text: formatMetric(metric, value) }),
        el(
          'span',
          { className: `change ${change.tone}` },
          el('span', { text: change.text }),
          el('span', { className: 'visually-hidden', text: ` (${change.spoken})` }),
        ),
      );
      item.dataset.metric = metric;
      item.dataset.value = String(value);
      return item;
    }),
  );
}

function renderSeries(answer: QueryAnswer, granularity: Granularity): void {
  const labels = answer.meta.time_labels ?? answer.results.map((r) => r.dimensions[0] ?? '');
  const byLabel = new Map(answer.results.map((r) => [r.dimensions[0], r.metrics]));
  const visitors = labels.map((l) => byLabel.get(l)?.[0] ?? 0);
  const pageviews = labels.map((l) => byLabel.get(l)?.[1] ?? 0);
  const shown = labels.map((l) => formatTimeLabel(l, granularity));
  const bucket = granularity === 'hour' ? 'Hour' : granularity === 'day' ? 'Day' : 'Month';
  chart.show({ labels: shown, bucket, visitors, pageviews });

  const head = el(
    'thead',
    {},
    el(
      'tr',
      {},
      el('th', { text: bucket }),
      el('th', { className: 'num', text: 'Visitors' }),
      el('th', { className: 'num', text: 'Page views' }),
    ),
  );
  for (const th of head.querySelectorAll('th')) th.scope = 'col';
  const body = el(
    'tbody',
    {},
    ...labels.map((label, i) =>
      el(
        'tr',
        {},
        el('td', { text: granularity === 'hour' ? label : shown[i]! }),
        el('td', { className: 'num', text: formatCount(visitors[i]!) }),
        el('td', { className: 'num', text: formatCount(pageviews[i]!) }),
      ),
    ),
  );
  ui.chartTable.replaceChildren(
    el('caption', { className: 'visually-hidden', text: 'Visitors and page views' }),
    head,
    body,
  );
}

function listSection(spec: ListSpec): HTMLElement {
  let section = document.getElementById(`list-${spec.id}`);
  if (!section) {
    section = el('section', { className: 'card' });
    section.id = `list-${spec.id}`;
    section.setAttribute('aria-labelledby', `list-${spec.id}-title`);
    const title = el('h3', { text: spec.title });
    title.id = `list-${spec.id}-title`;
    section.append(title, el('table'));
    ui.lists.append(section);
  }
  return section;
}

function renderList(spec: ListSpec, answer: QueryAnswer): void {
  const table = listSection(spec).querySelector('table')!;
  const headers = [spec.column, 'Visitors', ...(spec.extra ? [spec.extra.label] : [])];
  const head = el(
    'thead',
    {},
    el('tr', {}, ...headers.map((h, i) => el('th', { className: i === 0 ? 'name' : 'num', text: h }))),
  );
  for (const th of head.querySelectorAll('th')) th.scope = 'col';
  const rows = answer.results.map((row) => {
    const key = row.dimensions[0] ?? '';
    const share = row.metrics[row.metrics.length - 1] ?? 0;
    const bar = el('span', { className: 'bar' });
    bar.style.width = `${Math.max(0, Math.min(100, share))}%`;
    const name = el(
      'td',
      { className: 'name' },
      bar,
      el('span', { className: 'text', text: spec.name ? spec.name(key) : key }),
    );
    name.title = `${key}: ${share}% of visitors`;
    const tr = el(
      'tr',
      {},
      name,
      el('td', { className: 'num', text: formatCount(row.metrics[0] ?? 0) }),
      ...(spec.extra ? [el('td', { className: 'num', text: formatCount(row.metrics[1] ?? 0) })] : []),
    );
    tr.dataset.key = key;
    return tr;
  });
  if (rows.length === 0) {
    const empty = el('td', { className: 'empty', text: 'Nothing in this range.' });
    empty.colSpan = headers.length;
    rows.push(el('tr', {}, empty));
  }
  table.replaceChildren(
    el('caption', { className: 'visually-hidden', text: spec.title }),
    head,
    el('tbody', {}, ...rows),
  );
}

// ---------------------------------------------------------------- start

for (const range of RANGES) {
  const option = el('option', { text: range.label });
  option.value = range.value;
  ui.range.append(option);
}
ui.range.value = RANGES.some((r) => r.value === readStore(STORE_RANGE))
  ? readStore(STORE_RANGE)!
  : DEFAULT_RANGE;
ui.range.addEventListener('change', () => {
  writeStore(STORE_RANGE, ui.range.value);
  void load();
});
ui.refresh.addEventListener('click', () => void load());
ui.retry.addEventListener('click', () => void load());
for (const spec of LISTS) listSection(spec);

const storedSite = readStore(STORE_SITE);
const storedKey = readStore(STORE_KEY);
if (storedSite && storedKey) {
  void openSite({ siteId: storedSite, readKey: storedKey }, false);
} else {
  showSignIn();
}
