/**
 * The tracker's core, shared by the script tag (script.ts) and the ES module (index.ts): it builds
 * events and sends them. Everything it does is guarded, so a failure never reaches the host page.
 */

export interface TrackerOptions {
  /** Where ingestion answers, e.g. `https://stats.example.com` (no trailing slash). */
  endpoint: string;
  siteId: string;
  writeKey: string;
  /** Keep the fragment in the path and count `hashchange` (hash routing). */
  hash?: boolean;
}

export type Props = Record<string, string | number | boolean>;

export interface Tracker {
  /** A page view of the current location (or of `path`). */
  trackPageview(path?: string): void;
  /** A custom event, with optional flat props. */
  track(name: string, props?: Props): void;
}

/** `localStorage.analytics_ignore === "true"` turns tracking off in this browser. */
function optedOut(): boolean {
  try {
    return window.localStorage.getItem('analytics_ignore') === 'true';
  } catch {
    return false; // storage blocked (private mode, sandboxed frame): track as usual
  }
}

/** sendBeacon as text/plain (no preflight, survives unload); fetch with keepalive where it is missing. */
function send(url: string, body: string): void {
  try {
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
  } catch {
    // fall through to fetch
  }
  try {
    void fetch(url, {
      method: 'POST',
      body,
      keepalive: true,
      mode: 'cors',
      credentials: 'omit',
      headers: { 'Content-Type': 'text/plain' },
    }).catch(() => undefined);
  } catch {
    // nothing left to try
  }
}

/** The location as ingestion takes it: always from `/` (a `file:` or `about:` page has none). */
function pathOf(location: Location, hash: boolean): string {
  const path = location.pathname + location.search + (hash ? location.hash : '');
  return path.startsWith('/') ? path : `/${path}`;
}

export function createTracker(options: TrackerOptions): Tracker {
  const url = `${options.endpoint}/event`;
  const currentPath = (): string => pathOf(window.location, options.hash === true);
  const post = (event: Record<string, unknown>): void => {
    try {
      if (optedOut()) return;
      const referrer = document.referrer;
      const body: Record<string, unknown> = {
        site_id: options.siteId,
        write_key: options.writeKey,
        ...event,
      };
      if (referrer) body.referrer = referrer.slice(0, 2048);
      // The fragment is part of the page only under hash routing: ingestion keeps it then.
      if (options.hash) body.hash_routing = true;
      send(url, JSON.stringify(body));
    } catch {
      // never into the page
    }
  };
  return {
    trackPageview(path) {
      post({ event_type: 'page_view', path: (path ?? currentPath()).slice(0, 2048) });
    },
    track(name, props) {
      const event: Record<string, unknown> = { event_type: String(name), path: currentPath().slice(0, 2048) };
      if (props && typeof props === 'object') event.props = props;
      post(event);
    },
  };
}

/**
 * Page views on every client-side navigation: `pushState`, `replaceState` to a new path, `popstate`, and
 * with `hash`, `hashchange`. The history methods are wrapped, never replaced by something that could fail.
 */
export function trackNavigations(tracker: Tracker, hash: boolean): void {
  let last = '';
  const pathNow = (): string => pathOf(window.location, hash);
  const onChange = (): void => {
    const path = pathNow();
    if (path === last) return;
    last = path;
    tracker.trackPageview(path);
  };
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args);
      try {
        onChange();
      } catch {
        // never into the page
      }
      return result;
    };
  }
  window.addEventListener('popstate', onChange);
  if (hash) window.addEventListener('hashchange', onChange);
  onChange();
}
