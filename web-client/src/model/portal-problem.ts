/** Stable codes of the problems the portal shows; tests and styles read the code, never the text. */
export type PortalProblemCode =
  | 'wrong-credentials'
  | 'sign-in-blocked'
  | 'relay-unreachable'
  | 'connection-lost'
  | 'no-such-service'
  | 'nothing-found'
  | 'service-busy'
  | 'service-unavailable'
  | 'no-credit'
  | 'refused'
  | 'timeout'
  | 'relay-error'
  | 'bad-answer';

/**
 * A problem said the way a person understands it: a short `title`, a
 * sentence of `detail` (what happened and what to do), and the SIP facts
 * for those who want them (`status`, `reason`).
 */
export interface PortalProblem {
  readonly code: PortalProblemCode;
  readonly title: string;
  readonly detail: string;
  readonly status?: number;
  readonly reason?: string;
  /** Seconds after which trying again may work (Retry-After). */
  readonly retryAfterSeconds?: number;
}
