/** Identified and anonymous visitors live in separate namespaces, so their ids never collide. */
export const IDENTIFIED_VISITOR_PREFIX = 'u:';
export const ANONYMOUS_VISITOR_PREFIX = 'a:';

export function identifiedVisitor(userId: string): string {
  return IDENTIFIED_VISITOR_PREFIX + userId;
}

/**
 * The visitor of a stored event: the one ingestion derived, or, for an event stored before ingestion
 * derived visitors, its `user_id` (an anonymous visitor of such an event cannot be rebuilt: its IP was
 * never kept). `undefined` when the event has neither.
 */
export function visitorOfStoredEvent(event: { visitor?: string; user_id?: string }): string | undefined {
  if (event.visitor !== undefined) return event.visitor;
  return event.user_id !== undefined ? identifiedVisitor(event.user_id) : undefined;
}
