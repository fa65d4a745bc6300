import { copyWith } from '../../src/copy-with';

describe('copyWith', () => {
  it('when given an object and extra fields, then it returns a new object with both and leaves the original alone', () => {
    const original = { a: 1, nested: { b: 2 }, c: 'kept' };
    const copy = copyWith(original, { c: 'replaced', d: true });
    expect(copy).toEqual({ a: 1, nested: { b: 2 }, c: 'replaced', d: true });
    expect(Object.keys(copy)).toEqual(['a', 'nested', 'c', 'd']);
    expect(original).toEqual({ a: 1, nested: { b: 2 }, c: 'kept' });
    expect(copy).not.toBe(original);
    // Shallow, like spread syntax: nested values are shared.
    expect(copy.nested).toBe(original.nested);
  });
});
