import { pipeline } from 'node:stream';
import type { RequestHandler } from 'express';
import type mongoose from 'mongoose';
import { errorMeta, logger, validateRequestInput } from '@analytics/common';
import type { SiteRepository } from '../repositories/site.repository';
import { openEventExport } from '../services/export.service';
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
      const opened = await openEventExport(deps.sites, deps.mongo, input);
      res.status(200);
      for (const [name, value] of Object.entries(opened.headers)) res.setHeader(name, value);
      const startedAt = Date.now();
      // pipeline: backpressure from the client to the cursor, and every stream destroyed (the cursor
      // closed) on any end, a client that goes away included.
      pipeline([opened.source, ...opened.stages, res], (error) => {
        void opened.close();
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
