import type { RequestHandler } from 'express';
import type mongoose from 'mongoose';
import { AppError, getContext, validateRequestInput } from '@analytics/common';
import type { SiteRepository } from '../repositories/site.repository';
import type { UserErasureRepository } from '../repositories/user-erasure.repository';
import { requestUserErasure, toUserErasureView } from '../services/user-erasure.service';
import { getUserEventsPage } from '../services/user-events.service';
import {
  erasureParamsSchema,
  userErasureSchema,
  userEventsSchema,
  userParamsSchema,
} from '../validations/user.validation';

/** Per-person data: never kept by any cache on the way. */
const PRIVATE_NO_STORE = 'private, no-store';

export interface UserControllerDeps {
  sites: SiteRepository;
  erasures: UserErasureRepository;
  mongo: mongoose.Connection;
}

export function createUserController(deps: UserControllerDeps): {
  getUserEvents: RequestHandler;
  deleteUser: RequestHandler;
  getUserErasure: RequestHandler;
} {
  return {
    async getUserEvents(req, res) {
      const { user_id: userId } = validateRequestInput(userParamsSchema, { ...req.params });
      const input = validateRequestInput(userEventsSchema, { ...req.query });
      const page = await getUserEventsPage(deps.sites, deps.mongo, userId, input);
      res.setHeader('Cache-Control', PRIVATE_NO_STORE);
      res.json(page);
    },

    async deleteUser(req, res) {
      const { user_id: userId } = validateRequestInput(userParamsSchema, { ...req.params });
      const input = validateRequestInput(userErasureSchema, { ...req.query });
      const view = await requestUserErasure(
        deps,
        input.site_id,
        userId,
        getContext()?.requestId ?? 'unknown',
      );
      res.setHeader('Cache-Control', PRIVATE_NO_STORE);
      res.setHeader('Location', view.status_url);
      res.status(202).json(view);
    },

    async getUserErasure(req, res) {
      const { request_id: id } = validateRequestInput(erasureParamsSchema, { ...req.params });
      const request = await deps.erasures.findById(id);
      if (!request) {
        throw new AppError('erasure-not-found', 'No user erasure has this request id', { status: 404 });
      }
      res.setHeader('Cache-Control', PRIVATE_NO_STORE);
      res.json(toUserErasureView(request));
    },
  };
}
