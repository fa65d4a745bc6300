import { statisticPath } from '../../src/validations/event-fields.validation';

describe('statisticPath (the page as statistics see it)', () => {
  it.each([
    ['/a', false, '/a'],
    ['/a?x=1', false, '/a'],
    ['/a#top', false, '/a'],
    ['/a?x=1#top', false, '/a'],
    ['/a?x=1#/orders', true, '/a#/orders'],
    ['/app#/orders?tab=2', true, '/app#/orders?tab=2'],
    ['/app#', true, '/app'],
    ['/app?next=/b#c', true, '/app#c'],
    ['/', true, '/'],
  ])('%s with hash routing %s is %s', (path, hashRouting, expected) => {
    expect(statisticPath(path, hashRouting)).toBe(expected);
  });
});
