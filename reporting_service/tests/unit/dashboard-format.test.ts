import {
  formatChange,
  formatDuration,
  formatMetric,
  formatRange,
  formatTimeLabel,
} from '../../dashboard/src/format';

describe('the dashboard formats', () => {
  it('when a duration is given in seconds, then it reads as s, m ss or h mm', () => {
    expect([0, 42, 60, 185, 3599, 3720].map(formatDuration)).toEqual([
      '0s',
      '42s',
      '1m 00s',
      '3m 05s',
      '59m 59s',
      '1h 02m',
    ]);
    expect(formatMetric('bounce_rate', 33.3)).toBe('33.3%');
    expect(formatMetric('visitors', 12345)).toBe('12,345');
    expect(formatMetric('visitors', 1_234_567)).toBe('1.2M');
  });

  it('when a change is up, down, zero or null, then its text and tone say so (bounce rate in points, lower is better)', () => {
    expect(formatChange('visitors', 200)).toMatchObject({ text: '▲ 200%', tone: 'good' });
    expect(formatChange('visits', -12.5)).toMatchObject({ text: '▼ 12.5%', tone: 'bad' });
    expect(formatChange('bounce_rate', -66.7)).toMatchObject({ text: '▼ 66.7 pts', tone: 'good' });
    expect(formatChange('bounce_rate', 4)).toMatchObject({ text: '▲ 4 pts', tone: 'bad' });
    expect(formatChange('pageviews', 0)).toMatchObject({ text: '0%', tone: 'neutral' });
    expect(formatChange('visit_duration', null)).toMatchObject({ text: '– was 0 before', tone: 'neutral' });
  });

  it("when the API gives time labels in the site's zone, then they are read from the text, not the browser's zone", () => {
    expect(formatTimeLabel('2026-11-01T01:00:00-04:00', 'hour')).toBe('01:00');
    expect(formatTimeLabel('2026-03-29', 'day')).toBe('29 Mar');
    expect(formatTimeLabel('2026-03-01', 'month')).toBe('Mar 2026');
  });

  it("when the resolved range is shown, then its exclusive end is the day before, in the site's zone", () => {
    expect(formatRange(['2026-12-01T00:00:00+01:00', '2026-12-08T00:00:00+01:00'], 'Europe/Berlin')).toBe(
      '1 Dec 2026 – 7 Dec 2026',
    );
    expect(formatRange(['2026-12-07T00:00:00+05:45', '2026-12-08T00:00:00+05:45'], 'Asia/Kathmandu')).toBe(
      '7 Dec 2026',
    );
    expect(formatRange(undefined, 'Etc/UTC')).toBe('');
  });
});
