/**
 * The script tag:
 *   <script defer src="https://stats.example.com/js/script.js" data-site-id="shop" data-write-key="…"></script>
 * Optional `data-hash` (hash routing). Sends to the origin it was loaded from. `track(name, props)` is
 * `window.analytics.track`, or `window.analyticsTracker.track` when another script (Segment's
 * analytics.js) already owns `window.analytics`: another script's global is never overwritten.
 */
import { createTracker, trackNavigations, type Props } from './tracker';

type TrackFunction = (name: string, props?: Props) => void;
type TrackerGlobal = { track: TrackFunction };

(() => {
  try {
    const script = document.currentScript as HTMLScriptElement | null;
    if (!script) return;
    const siteId = script.getAttribute('data-site-id');
    const writeKey = script.getAttribute('data-write-key');
    if (!siteId || !writeKey) return;
    const hash = script.hasAttribute('data-hash');
    const tracker = createTracker({ endpoint: new URL(script.src).origin, siteId, writeKey, hash });
    const api: TrackerGlobal = { track: (name, props) => tracker.track(name, props) };
    const w = window as unknown as Record<string, unknown>;
    if (w.analytics === undefined) w.analytics = api;
    else if (w.analyticsTracker === undefined) w.analyticsTracker = api;
    trackNavigations(tracker, hash);
  } catch {
    // never into the page
  }
})();
