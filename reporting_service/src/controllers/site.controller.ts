import type { RequestHandler } from 'express';
import { rejectOwnProtoKeys, validationError } from '@analytics/common';
import type { SiteRepository } from '../repositories/site.repository';
import { createSite } from '../services/site.service';
import { createSiteSchema } from '../validations/site.validation';

export function createSiteController(repository: SiteRepository): { postSite: RequestHandler } {
  return {
    async postSite(req, res) {
      rejectOwnProtoKeys([{ value: req.body, at: '' }]);
      const { value, error } = createSiteSchema.validate(req.body);
      if (error) throw validationError(error);
      const site = await createSite(repository, value);
      res.status(201).json(site);
    },
  };
}
