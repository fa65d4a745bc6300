import { nextDay, startOfZoneDay, zoneDayRange } from '../../src/services/zone-calendar.service';
import { decodeUserEventsCursor, encodeUserEventsCursor } from '../../src/services/user-events.service';
import { neutraliseFormula, toCsvCells, toEventRow } from '../../src/services/event-row.service';

describe('site days', () => {
  it.each([
    ['2026-11-20', 'Etc/UTC', '2026-11-20T00:00:00.000Z'],
    ['2026-11-20', 'Asia/Kathmandu', '2026-11-19T18:15:00.000Z'],
    ['2026-11-20', 'Asia/Kolkata', '2026-11-19T18:30:00.000Z'],
    ['2026-03-29', 'Europe/Berlin', '2026-03-28T23:00:00.000Z'],
    ['2026-03-30', 'Europe/Berlin', '2026-03-29T22:00:00.000Z'],
    ['2026-11-01', 'America/New_York', '2026-11-01T04:00:00.000Z'],
    ['2026-11-02', 'America/New_York', '2026-11-02T05:00:00.000Z'],
    ['2026-12-31', 'Pacific/Kiritimati', '2026-12-30T10:00:00.000Z'],
  ])('when the day is %s in %s, then it starts at %s', (day, zone, expected) => {
    expect(startOfZoneDay(day, zone).toISOString()).toBe(expected);
  });

  it('when a DST day is asked, then it is 23 or 25 hours long', () => {
    const spring = zoneDayRange('2026-03-29', '2026-03-29', 'Europe/Berlin');
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * 3_600_000);
    const autumn = zoneDayRange('2026-10-25', '2026-10-25', 'Europe/Berlin');
    expect(autumn.end.getTime() - autumn.start.getTime()).toBe(25 * 3_600_000);
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
  });
});

describe('user events cursor', () => {
  it('when encoded and decoded, then the position comes back; a forged one is a 400', () => {
    const valid = { timestamp: new Date('2026-11-20T10:00:00.123Z'), eventId: 'a_b-c' };
    expect(decodeUserEventsCursor(encodeUserEventsCursor(valid))).toEqual(valid);
    expect(() => decodeUserEventsCursor(Buffer.from('x.y').toString('base64url'))).toThrow(/cursor/);
  });
});

describe('export cells', () => {
  it('when a cell starts with = + - or @, then it is prefixed with a quote; props become JSON', () => {
    expect(['=1', '+1', '-1', '@a', 'a=1', ''].map(neutraliseFormula)).toEqual([
      "'=1",
      "'+1",
      "'-1",
      "'@a",
      'a=1',
      '',
    ]);
    const cells = toCsvCells(
      toEventRow({
        site_id: 's',
        event_id: 'e',
        event_type: 'page_view',
        user_id: '-x',
        props: [
          { key: '__proto__', value: 1 },
          { key: 'n', value: -2 },
        ],
        timestamp: new Date('2026-11-20T00:00:00.000Z'),
        hour: '',
        day: '',
        received_at: new Date(),
        request_id: 'r',
      }),
    );
    expect(cells[4]).toBe("'-x");
    expect(cells[17]).toBe('{"__proto__":1,"n":-2}');
  });
});
