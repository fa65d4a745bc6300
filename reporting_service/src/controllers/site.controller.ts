import type { RequestHandler } from 'express';
import { validateRequestInput } from '@analytics/common';
import { assertMayRead, type Reader } from '../middlewares/read-auth.middleware';
import { deleteSite, getSite, listSites, updateSite } from '../services/site-admin.service';
import { createSite, rotateSiteKeys, siteNotFoundError, type SiteStores } from '../services/site.service';
import {
  createSiteSchema,
  listSitesSchema,
  rotateKeysSchema,
  siteParamsSchema,
  updateSiteSchema,
} from '../validations/site.validation';

/** Answers that carry keys must not be kept by any cache on the way. */
const NO_STORE = 'no-store';
/** Site settings are for the reader alone. */
const PRIVATE_NO_STORE = 'private, no-store';

export function createSiteController(stores: SiteStores): {
  postSite: RequestHandler;
  postSiteKeys: RequestHandler;
  getSite: RequestHandler;
  getSites: RequestHandler;
  patchSite: RequestHandler;
  deleteSite: RequestHandler;
} {
  const siteIdOf = (params: Record<string, unknown>): string =>
    validateRequestInput(siteParamsSchema, { ...params }).site_id;
  return {
    async postSite(req, res) {
      const input = validateRequestInput(createSiteSchema, req.body);
      const site = await createSite(stores, input);
      res.setHeader('Cache-Control', NO_STORE);
      res.status(201).json(site);
    },

    async postSiteKeys(req, res) {
      const siteId = siteIdOf(req.params);
      const input = validateRequestInput(rotateKeysSchema, req.body);
      const rotated = await rotateSiteKeys(stores.sites, siteId, input.keys);
      if (!rotated) throw siteNotFoundError(siteId);
      res.setHeader('Cache-Control', NO_STORE);
      res.status(200).json(rotated);
    },

    async getSite(req, res) {
      const siteId = siteIdOf(req.params);
      assertMayRead(res.locals.reader as Reader, siteId);
      const site = await getSite(stores, siteId);
      if (!site) throw siteNotFoundError(siteId);
      res.setHeader('Cache-Control', PRIVATE_NO_STORE);
      res.json(site);
    },

    async getSites(req, res) {
      const input = validateRequestInput(listSitesSchema, { ...req.query });
      const page = await listSites(stores, input);
      res.setHeader('Cache-Control', PRIVATE_NO_STORE);
      res.json(page);
    },

    async patchSite(req, res) {
      const siteId = siteIdOf(req.params);
      const input = validateRequestInput(updateSiteSchema, req.body);
      const site = await updateSite(stores, siteId, input);
      if (!site) throw siteNotFoundError(siteId);
      res.setHeader('Cache-Control', PRIVATE_NO_STORE);
      res.json(site);
    },

    async deleteSite(req, res) {
      const siteId = siteIdOf(req.params);
      const deleted = await deleteSite(stores, siteId);
      if (!deleted) throw siteNotFoundError(siteId);
      res.status(202).json(deleted);
    },
  };
}
