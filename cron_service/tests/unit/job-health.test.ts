import { isOverdue } from '../../src/services/job-health.service';

const MINUTE = 60_000;
const started = new Date('2026-01-10T12:00:00.000Z');
const at = (minutesAfterStart: number) => new Date(started.getTime() + minutesAfterStart * MINUTE);

describe('isOverdue', () => {
  it('when the service started less than one interval ago, then no job is overdue, whatever its last success', () => {
    expect(
      isOverdue({ intervalMs: MINUTE, lastSuccessAt: undefined, serviceStartedAt: started, now: at(1) }),
    ).toBe(false);
    expect(
      isOverdue({ intervalMs: MINUTE, lastSuccessAt: at(-600), serviceStartedAt: started, now: at(0.5) }),
    ).toBe(false);
  });

  it('when the grace is over and the job never succeeded, then it is overdue', () => {
    expect(
      isOverdue({ intervalMs: MINUTE, lastSuccessAt: undefined, serviceStartedAt: started, now: at(1.01) }),
    ).toBe(true);
  });

  it('when the last success is at most two intervals old, then it is not overdue; older, it is', () => {
    const base = { intervalMs: MINUTE, serviceStartedAt: started, now: at(10) };
    expect(isOverdue({ ...base, lastSuccessAt: at(8) })).toBe(false);
    expect(isOverdue({ ...base, lastSuccessAt: at(7.99) })).toBe(true);
  });
});
