import { Transform } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { RawEventDocument } from '@analytics/common';
import type { ExportFormat } from '../validations/export.validation';
import { EVENT_ROW_COLUMNS, toCsvCells, toEventRow } from './event-row.service';

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
