import type { RequestHandler } from 'express';
import { validateRequestInput } from '@analytics/common';
import { assertMayRead, type Reader } from '../middlewares/read-auth.middleware';
import type { QueryService } from '../services/query.service';
import { queryBodySchema } from '../validations/query.validation';

export function createQueryController(queries: QueryService): { query: RequestHandler } {
  return {
    async query(req, res) {
      const body = validateRequestInput(queryBodySchema, req.body);
      assertMayRead(res.locals.reader as Reader, body.site_id);
      const answer = await queries.query(body);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(answer);
    },
  };
}
