import type { RawEventDocument, StoredProp } from '@analytics/common';

/** The columns of an export and the fields of a user's event, in this order (docs/api.md). */
export const EVENT_ROW_COLUMNS = [
  'event_id',
  'timestamp',
  'event_type',
  'path',
  'user_id',
  'visitor',
  'referrer',
  'source',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'device',
  'browser',
  'os',
  'country',
  'props',
] as const;

export type EventRowColumn = (typeof EVENT_ROW_COLUMNS)[number];

/** An event as the API shows it: no internal fields; absent values null; props an object. */
export type EventRow = { [K in Exclude<EventRowColumn, 'props'>]: string | null } & {
  props: Record<string, string | number | boolean>;
};

export function propsObject(props: StoredProp[] | undefined): Record<string, string | number | boolean> {
  const object: Record<string, string | number | boolean> = {};
  // Keys are user data: defineProperty, so `__proto__` stays an ordinary key.
  for (const prop of props ?? []) {
    Object.defineProperty(object, prop.key, {
      value: prop.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

/** A stored event → the API's row. */
export function toEventRow(doc: RawEventDocument): EventRow {
  const text = (value: string | undefined): string | null => value ?? null;
  return {
    event_id: doc.event_id,
    timestamp: doc.timestamp.toISOString(),
    event_type: doc.event_type,
    path: text(doc.path),
    user_id: text(doc.user_id),
    visitor: text(doc.visitor),
    referrer: text(doc.referrer),
    source: text(doc.source),
    utm_source: text(doc.utm_source),
    utm_medium: text(doc.utm_medium),
    utm_campaign: text(doc.utm_campaign),
    utm_term: text(doc.utm_term),
    utm_content: text(doc.utm_content),
    device: text(doc.device),
    browser: text(doc.browser),
    os: text(doc.os),
    country: text(doc.country),
    props: propsObject(doc.props),
  };
}

/** Spreadsheet formula starters (CSV injection): such a cell is prefixed with `'`. */
const FORMULA_START = /^[=+\-@]/;

export function neutraliseFormula(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** A row as CSV cells in column order: null → empty, props as JSON, formula starters neutralised. */
export function toCsvCells(row: EventRow): string[] {
  return EVENT_ROW_COLUMNS.map((column) => {
    const value = column === 'props' ? JSON.stringify(row.props) : row[column];
    return neutraliseFormula(value ?? '');
  });
}
