/**
 * The tracker as an ES module, for sites that bundle their scripts:
 *
 *   import { init, track } from '@analytics/tracker';
 *   init({ endpoint: 'https://stats.example.com', siteId: 'shop', writeKey: '…' });
 *   track('signup', { plan: 'pro' });
 *
 * `init` sends a page view now and on every client-side navigation (as the script tag does).
 */
import { createTracker, trackNavigations, type Props, type Tracker, type TrackerOptions } from './tracker';

export type { Props, Tracker, TrackerOptions };

let current: Tracker | undefined;

export function init(options: TrackerOptions & { autoPageviews?: boolean }): Tracker {
  current = createTracker(options);
  if (options.autoPageviews !== false) trackNavigations(current, options.hash === true);
  return current;
}

/** A custom event; does nothing before `init`. */
export function track(name: string, props?: Props): void {
  current?.track(name, props);
}

/** A page view of the current location (or of `path`); does nothing before `init`. */
export function trackPageview(path?: string): void {
  current?.trackPageview(path);
}
