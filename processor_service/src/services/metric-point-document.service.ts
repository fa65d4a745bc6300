import { tagPairsOf, type TrackedMetricPoint } from '@analytics/common';
import type { NewMetricPoint } from '../repositories/metric-point.repository';

/** A queued point as stored: tags as key/value pairs (never field names) plus their filter pairs. */
export function toMetricPointDocument(input: {
  point: TrackedMetricPoint;
  requestId: string;
  receivedAt: Date;
}): NewMetricPoint {
  const { point } = input;
  const doc: NewMetricPoint = {
    site_id: point.site_id,
    metric_id: point.metric_id,
    name: point.name,
    value: point.value,
    timestamp: new Date(point.timestamp),
    tag_pairs: tagPairsOf(point.tags),
    received_at: input.receivedAt,
    request_id: input.requestId,
  };
  if (point.tags && Object.keys(point.tags).length > 0) {
    doc.tags = Object.keys(point.tags)
      .sort()
      .map((key) => ({ key, value: point.tags![key]! }));
  }
  return doc;
}
