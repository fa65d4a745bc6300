import { Transform, type Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type mongoose from 'mongoose';
import { boundedMongo, DEFAULT_SITE_TIMEZONE, type RawEventDocument } from '@analytics/common';
import { exportEvents } from '../queries/export-events.query';
import type { SiteRepository } from '../repositories/site.repository';
import type { ExportFormat, ExportInput } from '../validations/export.validation';
import { EVENT_ROW_COLUMNS, toCsvCells, toEventRow } from './event-row.service';
import { siteNotFoundError } from './site.service';
import { zoneDayRange } from './zone-calendar.service';

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** `attachment; filename="<site>_<from>_<to>.<format>"` (site ids and days are filename-safe). */
export function exportContentDisposition(
  siteId: string,
  from: string,
  to: string,
  format: ExportFormat,
): string {
  return `attachment; filename="${siteId}_${from}_${to}.${format}"`;
}

/**
 * The streams between the cursor and the response, in order, for stream.pipeline: rows are formatted one
 * at a time and every stage is bounded by its highWaterMark, so memory stays constant whatever the size.
 * CSV: RFC 4180 (CRLF, quotes doubled, a cell quoted when it holds a comma, quote or line break), a header
 * row, cells starting with = + - @ prefixed with '. NDJSON: one JSON object per line, values as stored.
 */
export function exportFormatStages(format: ExportFormat): Transform[] {
  if (format === 'ndjson') {
    return [
      new Transform({
        writableObjectMode: true,
        transform(doc: RawEventDocument, _encoding, callback) {
          callback(null, `${JSON.stringify(toEventRow(doc))}\n`);
        },
      }),
    ];
  }
  return [
    new Transform({
      objectMode: true,
      transform(doc: RawEventDocument, _encoding, callback) {
        callback(null, toCsvCells(toEventRow(doc)));
      },
    }),
    stringify({
      header: true,
      columns: [...EVENT_ROW_COLUMNS],
      record_delimiter: 'windows',
      quoted_string: false,
    }),
  ];
}

/** An export ready to stream: its source, its formatting stages and its headers. */
export interface OpenedExport {
  source: Readable;
  stages: Transform[];
  headers: Record<string, string>;
  /** Closes the cursor; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Opens the export of a site's raw events over `from`..`to` (days in the site's zone): 404 for an unknown
 * site, and the first round trip made before any byte is sent, so a database that is down is still a
 * clean 503 rather than a cut response.
 */
export async function openEventExport(
  sites: SiteRepository,
  mongo: mongoose.Connection,
  input: ExportInput,
): Promise<OpenedExport> {
  const site = await sites.findById(input.site_id);
  if (!site) throw siteNotFoundError(input.site_id);
  const range = zoneDayRange(input.from, input.to, site.timezone ?? DEFAULT_SITE_TIMEZONE);
  const cursor = exportEvents(mongo, input.site_id, range);
  const close = () => cursor.close().catch(() => undefined);
  try {
    await boundedMongo(cursor.hasNext());
  } catch (error) {
    await close();
    throw error;
  }
  return {
    source: cursor.stream(),
    stages: exportFormatStages(input.format),
    headers: {
      'Content-Type': EXPORT_CONTENT_TYPES[input.format],
      'Content-Disposition': exportContentDisposition(input.site_id, input.from, input.to, input.format),
      'Cache-Control': 'private, no-store',
      'X-Content-Type-Options': 'nosniff',
    },
    close,
  };
}
