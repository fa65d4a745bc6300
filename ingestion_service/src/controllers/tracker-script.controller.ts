import type { RequestHandler } from 'express';
import type { TrackerScript } from '../services/tracker-script.service';

/** Browsers revalidate after an hour (a new tracker reaches every page within it), with the ETag. */
const CACHE_CONTROL = 'public, max-age=3600, must-revalidate';

export function createTrackerScriptController(script: TrackerScript): { getScript: RequestHandler } {
  return {
    getScript(req, res) {
      res.setHeader('Content-Type', 'application/javascript; charset=utf-8');
      res.setHeader('Cache-Control', CACHE_CONTROL);
      res.setHeader('ETag', script.etag);
      res.setHeader('Vary', 'Accept-Encoding');
      const known = req.headers['if-none-match'];
      if (known && known.split(',').some((tag) => tag.trim().replace(/^W\//, '') === script.etag)) {
        res.status(304).end();
        return;
      }
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      if (gzip) res.setHeader('Content-Encoding', 'gzip');
      res.status(200).end(gzip ? script.gzipped : script.body);
    },
  };
}
