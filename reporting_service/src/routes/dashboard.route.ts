import fs from 'node:fs';
import path from 'node:path';
import { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import { AppError } from '@analytics/common';

/** Where build.mjs writes the bundle: reporting_service/dashboard/dist (same from src/ and dist/). */
export const DASHBOARD_DIR = path.resolve(__dirname, '..', '..', 'dashboard', 'dist');

/** The files the page is made of, by URL path; nothing else in the folder is served. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/**
 * The dashboard's own policy, stricter than helmet's default for the API: everything from this origin
 * only, no inline script or style, no framing, no plugin; the page calls this origin's API only.
 */
export const dashboardCsp: RequestHandler = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
});

/**
 * GET / (the dashboard page) and its two assets, served by reporting itself. The files carry no hash in
 * their names, so every answer is revalidated (`no-cache`) with its ETag: a reload after a deploy never
 * mixes an old script with a new page, and an unchanged file costs a 304.
 */
export function createDashboardRouter(dir = DASHBOARD_DIR): Router {
  const router = Router();
  for (const [route, { file, type }] of Object.entries(FILES)) {
    router.get(route, dashboardCsp, (req, res, next) => {
      const full = path.join(dir, file);
      if (!fs.existsSync(full)) {
        next(
          new AppError('dashboard-not-built', 'The dashboard is not built: run `npm run build` at the root', {
            status: 503,
          }),
        );
        return;
      }
      res.sendFile(
        full,
        {
          cacheControl: false,
          etag: true,
          lastModified: true,
          headers: {
            'Content-Type': type,
            'Cache-Control': 'no-cache',
            'X-Content-Type-Options': 'nosniff',
          },
        },
        (error) => {
          if (error && !res.headersSent) next(error);
        },
      );
    });
  }
  return router;
}
