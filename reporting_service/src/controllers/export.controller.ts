import { pipeline } from 'node:stream';
import type { RequestHandler } from 'express';
import type mongoose from 'mongoose';
import {
  boundedMongo,
  DEFAULT_SITE_TIMEZONE,
  errorMeta,
  logger,
  validateRequestInput,
} from '@analytics/common';
import { exportEvents } from '../queries/export-events.query';
import type { SiteRepository } from '../repositories/site.repository';
import {
  exportContentDisposition,
  EXPORT_CONTENT_TYPES,
  exportFormatStages,
} from '../services/export.service';
import { siteNotFoundError } from '../services/site.service';
import { zoneDayRange } from '../services/site-days.service';
import { exportSchema } from '../validations/export.validation';

export type ExportOutcome = 'completed' | 'aborted' | 'failed';

export interface ExportControllerDeps {
  sites: SiteRepository;
  mongo: mongoose.Connection;
  /** analytics_exports_total{format, outcome}, when the service has metrics. */
  exports?: { inc(labels: { format: string; outcome: ExportOutcome }): void };
}

export function createExportController(deps: ExportControllerDeps): { getExport: RequestHandler } {
  return {
    async getExport(req, res) {
      const input = validateRequestInput(exportSchema, { ...req.query });
      const site = await deps.sites.findById(input.site_id);
      if (!site) throw siteNotFoundError(input.site_id);
      const range = zoneDayRange(input.from, input.to, site.timezone ?? DEFAULT_SITE_TIMEZONE);
      const cursor = exportEvents(deps.mongo, input.site_id, range);
      // The first round trip before any byte is sent: a database that is down is still a clean 503.
      try {
        await boundedMongo(cursor.hasNext());
      } catch (error) {
        await cursor.close().catch(() => undefined);
        throw error;
      }
      res.status(200);
      res.setHeader('Content-Type', EXPORT_CONTENT_TYPES[input.format]);
      res.setHeader(
        'Content-Disposition',
        exportContentDisposition(input.site_id, input.from, input.to, input.format),
      );
      res.setHeader('Cache-Control', 'private, no-store');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      const startedAt = Date.now();
      // pipeline: backpressure from the client to the cursor, and every stream destroyed (the cursor
      // closed) on any end, a client that goes away included.
      pipeline([cursor.stream(), ...exportFormatStages(input.format), res], (error) => {
        void cursor.close().catch(() => undefined);
        const outcome: ExportOutcome = !error ? 'completed' : isClientGone(error) ? 'aborted' : 'failed';
        deps.exports?.inc({ format: input.format, outcome });
        const meta = {
          siteId: input.site_id,
          format: input.format,
          outcome,
          durationMs: Date.now() - startedAt,
        };
        if (error && outcome === 'failed') logger.error('export failed', { ...meta, ...errorMeta(error) });
        else logger.info(outcome === 'completed' ? 'export completed' : 'export aborted by the client', meta);
      });
    },
  };
}

/** The response closed before the export ended: the client went away (or stopped reading and hung up). */
function isClientGone(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE';
}
