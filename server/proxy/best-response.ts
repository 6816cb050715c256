/**
 * Choosing the response a forking proxy sends upstream when no branch
 * answered 2xx (RFC 3261 §16.7 step 6): "The proxy MUST choose from the
 * 6xx class responses if any exist in the context. If no 6xx class
 * responses are present, the proxy SHOULD choose from the lowest response
 * class stored in the response context. The proxy MAY select any response
 * within that chosen class. The proxy SHOULD give preference to responses
 * that provide information affecting resubmission of this request, such
 * as 401, 407, 415, 420, and 484 if the 4xx class is chosen."
 *
 * Within a class the relay then takes the lowest status code, so the
 * choice does not depend on which branch answered first: 404 beats 486,
 * 500 beats 503.
 */

/** Statuses that tell the client how to resubmit (§16.7 step 6). */
const INFORMATIVE: ReadonlySet<number> = new Set([401, 407, 415, 420, 484]);

/**
 * Rank of a final non-2xx status: lower is better. 6xx ranks first, then
 * 3xx, 4xx, 5xx; within a class informative statuses, then lower codes.
 */
export function responseRank(status: number): number {
  const cls = Math.floor(status / 100);
  const classRank = cls === 6 ? 0 : cls - 2; // 3xx → 1, 4xx → 2, 5xx → 3
  return classRank * 10_000 + (INFORMATIVE.has(status) ? 0 : 1_000) + status;
}

/** True when `candidate` should replace `current` as the best response so far. */
export function isBetterResponse(candidate: number, current: number | undefined): boolean {
  return current === undefined || responseRank(candidate) < responseRank(current);
}

/**
 * The status a chosen response is relayed with. §16.7 step 6: a proxy
 * "SHOULD NOT forward [a 503] upstream unless it can determine that any
 * subsequent requests it might proxy will also generate a 503", and
 * "SHOULD generate a 500 response" instead: a 503 from an application
 * server says that server is unavailable, not the relay, and must not
 * make the client avoid the relay.
 */
export function relayedStatus(status: number): number {
  return status === 503 ? 500 : status;
}
