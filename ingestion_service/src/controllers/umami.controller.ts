import type { RequestHandler } from 'express';
import { AppError, invalidFields } from '@analytics/common';
import { toIntakeEvent } from '../mappings/foreign-event.mapping';
import { mapUmamiPayload } from '../mappings/umami.mapping';
import { intakeRequest } from './event.controller';
import type { KeylessControllerDeps } from './plausible.controller';

/**
 * Umami's collection API: no write key; `payload.website` is the site id, and a `payload.hostname`, when
 * sent, must be one of the site's domains. The request's IP and User-Agent are the visitor's.
 */
export function createUmamiController(deps: KeylessControllerDeps): { postSend: RequestHandler } {
  return {
    async postSend(req, res) {
      const request = { ...intakeRequest(req, res), fromBrowser: true };
      const mapped = mapUmamiPayload(req.body);
      if (mapped.kind === 'invalid') throw invalidFields(mapped.details);
      deps.intake.requireSitesLoaded();
      const settings = deps.sites.settingsOf(mapped.siteId);
      if (settings === undefined) {
        throw new AppError('unknown-website', 'No site has this id', {
          status: 401,
          details: [{ field: 'payload.website', message: 'is not the id of any site' }],
        });
      }
      if (mapped.hostname !== undefined && !settings.domains.includes(mapped.hostname)) {
        throw new AppError('unknown-domain', 'The host name is not one of the domains of the site', {
          status: 403,
          details: [{ field: 'payload.hostname', message: 'is not one of the domains of the site' }],
        });
      }
      res.locals.acceptedEvents = 0;
      // identify: Umami's session data; nothing of it is an event
      if (mapped.kind === 'event') {
        const event = toIntakeEvent(mapped.siteId, mapped.event, request.receivedAt);
        await deps.intake.acceptMapped(mapped.siteId, [event], request, { keyless: true });
        if (mapped.propsDropped > 0) deps.dropped.count('props_dropped', mapped.propsDropped);
        res.locals.acceptedEvents = 1;
      }
      res.status(200).json({ success: true });
    },
  };
}
