/**
 * `{ ...object, ...extra }` for the per-event paths. On Node 20, an object made by spread syntax gets a
 * hidden class of its own, so every property added to it, in the literal or after, costs a new one:
 * 1.5–3.5 µs per event here, and `JSON.stringify` of such objects is slower too (a fifth of
 * `POST /events`' CPU on Node 20). `Object.assign` onto a fresh literal costs 0.1–0.2 µs on Node 20 and
 * Node 24 alike (docs/performance.md, issue 19).
 */
export function copyWith<T extends object, E extends object>(object: T, extra: E): T & E {
  return Object.assign(Object.assign({}, object), extra);
}
