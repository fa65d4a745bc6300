import { planSeriesBuckets } from '../../src/services/metric-query.service';
import { localDayStart } from '../../src/services/zone-calendar.service';

const iso = (ms: number) => new Date(ms).toISOString();

describe('metric query buckets in the site zone', () => {
  it('when the zone is Asia/Kathmandu (+05:45), then each day starts at 18:15 UTC the day before', () => {
    const days = planSeriesBuckets('Asia/Kathmandu', {
      from: '2026-12-01',
      to: '2026-12-03',
      interval: 'day',
    });
    expect(days.map((d) => d.time)).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
    expect(iso(days[0]!.startMs)).toBe('2026-11-30T18:15:00.000Z');
    expect(iso(days[2]!.endMs)).toBe('2026-12-03T18:15:00.000Z');
  });

  it('when hours of Asia/Kolkata (+05:30) are asked, then they are labelled with the offset and start on :30 UTC', () => {
    const hours = planSeriesBuckets('Asia/Kolkata', {
      from: '2026-12-01',
      to: '2026-12-01',
      interval: 'hour',
    });
    expect(hours).toHaveLength(24);
    expect(hours[0]).toMatchObject({ time: '2026-12-01T00:00:00+05:30' });
    expect(iso(hours[0]!.startMs)).toBe('2026-11-30T18:30:00.000Z');
    expect(iso(hours[1]!.startMs)).toBe('2026-11-30T19:30:00.000Z');
  });

  it('when a DST day ends (America/New_York, 2026-11-01), then the day has 25 hours and the repeated hour two labels', () => {
    const hours = planSeriesBuckets('America/New_York', {
      from: '2026-11-01',
      to: '2026-11-01',
      interval: 'hour',
    });
    expect(hours).toHaveLength(25);
    const labels = hours.map((h) => h.time);
    expect(labels).toContain('2026-11-01T01:00:00-04:00');
    expect(labels).toContain('2026-11-01T01:00:00-05:00');
    const days = planSeriesBuckets('America/New_York', {
      from: '2026-11-01',
      to: '2026-11-01',
      interval: 'day',
    });
    expect(days[0]!.endMs - days[0]!.startMs).toBe(25 * 3_600_000);
  });

  it('when a day has no midnight (America/Santiago, 2026-09-06), then it starts at its first instant', () => {
    const start = localDayStart('America/Santiago', '2026-09-06');
    expect(iso(start)).toBe('2026-09-06T04:00:00.000Z');
  });

  it('when minutes of one UTC day are asked, then there are 1,440; two days are over the limit (400)', () => {
    expect(
      planSeriesBuckets('Etc/UTC', { from: '2026-12-01', to: '2026-12-01', interval: 'minute' }),
    ).toHaveLength(1440);
    expect(() =>
      planSeriesBuckets('Etc/UTC', { from: '2026-12-01', to: '2026-12-02', interval: 'minute' }),
    ).toThrow(expect.objectContaining({ status: 400 }));
    expect(
      planSeriesBuckets('Etc/UTC', { from: '2023-01-01', to: '2026-12-10', interval: 'day' }),
    ).toHaveLength(1440);
    expect(() =>
      planSeriesBuckets('Etc/UTC', { from: '2023-01-01', to: '2026-12-11', interval: 'day' }),
    ).toThrow(expect.objectContaining({ status: 400 }));
  });
});
