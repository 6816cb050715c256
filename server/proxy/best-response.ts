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
 * The status of a response the proxy makes itself for a branch outcome it
 * stood in for (transport error, §16.9): 503 becomes 500, so that a client
 * does not take a failed connection to one application server as the
 * relay being unavailable.
 *
 * A 503 that an application server actually sent is relayed unchanged
 * with its Retry-After. §16.7 step 6 says a proxy "SHOULD NOT forward [a
 * 503] upstream unless it can determine that any subsequent requests it
 * might proxy will also generate a 503". The relay proxies for one service
 * at a time, and it relays the 503 only when every application server of
 * that service asked answered 503 (balance mode tries the next one first):
 * requests for that service will meet the same answer until Retry-After,
 * which is what the client needs to know ("service busy", design brief
 * flow 1: the refusal reaches the client unchanged).
 */
export function relayedStatus(status: number): number {
  return status === 503 ? 500 : status;
}
