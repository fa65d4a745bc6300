import type { RequestHandler } from 'express';
import { validateRequestInput } from '@analytics/common';
import type { SiteRepository } from '../repositories/site.repository';
import { createSite, rotateSiteKeys, siteNotFoundError } from '../services/site.service';
import { createSiteSchema, rotateKeysSchema, siteParamsSchema } from '../validations/site.validation';

/** Answers that carry keys must not be kept by any cache on the way. */
const NO_STORE = 'no-store';

export function createSiteController(repository: SiteRepository): {
  postSite: RequestHandler;
  postSiteKeys: RequestHandler;
} {
  return {
    async postSite(req, res) {
      const input = validateRequestInput(createSiteSchema, req.body);
      const site = await createSite(repository, input);
      res.setHeader('Cache-Control', NO_STORE);
      res.status(201).json(site);
    },

    async postSiteKeys(req, res) {
      const { site_id: siteId } = validateRequestInput(siteParamsSchema, { ...req.params });
      const input = validateRequestInput(rotateKeysSchema, req.body);
      const rotated = await rotateSiteKeys(repository, siteId, input.keys);
      if (!rotated) throw siteNotFoundError(siteId);
      res.setHeader('Cache-Control', NO_STORE);
      res.status(200).json(rotated);
    },
  };
}
