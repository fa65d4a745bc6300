import { Router } from 'express';
import type { createTrackerScriptController } from '../controllers/tracker-script.controller';

/** The tag every tracked page loads: `<script defer src=".../js/script.js" data-site-id=... data-write-key=...>`. */
export const TRACKER_SCRIPT_PATH = '/js/script.js';

export function createTrackerScriptRouter(
  controller: ReturnType<typeof createTrackerScriptController>,
): Router {
  const router = Router();
  router.get(TRACKER_SCRIPT_PATH, controller.getScript);
  router.head(TRACKER_SCRIPT_PATH, controller.getScript);
  return router;
}
