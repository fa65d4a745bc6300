import type { RequestHandler } from 'express';
import { AppError, invalidFields } from '@analytics/common';
import { toIntakeEvent } from '../mappings/foreign-event.mapping';
import { mapPlausibleEvent } from '../mappings/plausible.mapping';
import type { DroppedEvents } from '../services/dropped-events.service';
import type { EventIntake } from '../services/event-intake.service';
import type { SiteKeyCache } from '../services/site-key-cache.service';
import { intakeRequest } from './event.controller';

export interface KeylessControllerDeps {
  intake: EventIntake;
  sites: SiteKeyCache;
  dropped: DroppedEvents;
}

/**
 * Plausible's events API: no write key; `domain` names the site. The request is the visitor's browser's
 * own, so its IP and User-Agent are the visitor's (and the agent is judged for bots).
 */
export function createPlausibleController(deps: KeylessControllerDeps): { postEvent: RequestHandler } {
  return {
    async postEvent(req, res) {
      const request = { ...intakeRequest(req, res), fromBrowser: true };
      const mapped = mapPlausibleEvent(req.body);
      if (mapped.kind === 'invalid') throw invalidFields(mapped.details);
      deps.intake.requireSitesLoaded();
      const siteId = mapped.domains.map((domain) => deps.sites.siteForDomain(domain)).find(Boolean);
      if (siteId === undefined) {
        throw new AppError('unknown-domain', 'No site lists this domain', {
          status: 401,
          details: [{ field: 'domain', message: 'is not one of the domains of any site' }],
        });
      }
      res.locals.acceptedEvents = 0;
      // engagement (time on page, scroll depth): accepted, and not an event of any statistic
      if (mapped.kind === 'event') {
        const event = toIntakeEvent(siteId, mapped.event, request.receivedAt);
        await deps.intake.acceptMapped(siteId, [event], request, { keyless: true });
        if (mapped.propsDropped > 0) deps.dropped.count('props_dropped', mapped.propsDropped);
        res.locals.acceptedEvents = 1;
      }
      res.status(202).json({ success: true });
    },
  };
}
