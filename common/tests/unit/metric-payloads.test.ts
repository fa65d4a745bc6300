import {
  ingestMetricsJobSchema,
  isMetricJobTooNew,
  METRIC_JOB_MAX_POINTS,
  packMetricJobs,
  type AcceptedMetricRequest,
} from '@analytics/common';

const point = (i: number) => ({
  site_id: 'shop',
  metric_id: `m${i}`,
  name: 'latency ms',
  value: i === 0 ? 1e300 : -i / 3,
  timestamp: '2026-12-07T10:00:00.000Z',
  tags: { region: 'eu', tier: 1 },
});
const request = (id: string, points: number): AcceptedMetricRequest => ({
  request_id: id,
  received_at: '2026-12-07T10:00:01.000Z',
  points: Array.from({ length: points }, (_, i) => point(i)),
});

describe('metric job payloads', () => {
  it('when ingestion packs requests, then each job holds whole requests and at most 500 points, and the consumer accepts it', () => {
    const jobs = packMetricJobs([request('a', 300), request('b', 300), request('c', 1)]);
    expect(jobs.map((job) => job.requests.map((r) => r.request_id))).toEqual([['a'], ['b', 'c']]);
    for (const job of jobs) {
      expect(job.requests.reduce((n, r) => n + r.points.length, 0)).toBeLessThanOrEqual(
        METRIC_JOB_MAX_POINTS,
      );
      expect(ingestMetricsJobSchema.validate(job).error).toBeUndefined();
    }
  });

  it('when a payload is malformed (a string value, a bad id, an unknown field), then the consumer refuses it', () => {
    const bad = [
      { v: 1, requests: [{ ...request('a', 1), points: [{ ...point(1), value: '1' }] }] },
      { v: 1, requests: [{ ...request('a', 1), points: [{ ...point(1), metric_id: 'a b' }] }] },
      { v: 1, requests: [{ ...request('a', 1), extra: true }] },
      { v: 1, requests: [] },
      { requests: [request('a', 1)] },
    ];
    for (const job of bad) expect(ingestMetricsJobSchema.validate(job).error).toBeDefined();
  });

  it('when a later release adds fields and declares compat 1, then this release reads it; without compat it is kept for later', () => {
    const later = {
      v: 2,
      compat: 1,
      novel: 'x',
      requests: [{ ...request('a', 2), trace: 't', points: [{ ...point(1), unit: 'ms' }] }],
    };
    expect(ingestMetricsJobSchema.validate(later).error).toBeUndefined();
    expect(isMetricJobTooNew(later)).toBe(false);
    expect(isMetricJobTooNew({ v: 2, requests: [] })).toBe(true);
    expect(isMetricJobTooNew({ v: 1, requests: [] })).toBe(false);
  });
});
