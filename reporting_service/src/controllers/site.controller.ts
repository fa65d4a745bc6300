import type { RequestHandler } from 'express';
import { rejectOwnProtoKeys, validationError } from '@analytics/common';
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
      rejectOwnProtoKeys([{ value: req.body, at: '' }]);
      const { value, error } = createSiteSchema.validate(req.body);
      if (error) throw validationError(error);
      const site = await createSite(repository, value);
      res.setHeader('Cache-Control', NO_STORE);
      res.status(201).json(site);
    },

    async postSiteKeys(req, res) {
      const params = siteParamsSchema.validate({ ...req.params });
      if (params.error) throw validationError(params.error);
      rejectOwnProtoKeys([{ value: req.body, at: '' }]);
      const { value, error } = rotateKeysSchema.validate(req.body);
      if (error) throw validationError(error);
      const rotated = await rotateSiteKeys(repository, params.value.site_id, value.keys);
      if (!rotated) throw siteNotFoundError(params.value.site_id);
      res.setHeader('Cache-Control', NO_STORE);
      res.status(200).json(rotated);
    },
  };
}
