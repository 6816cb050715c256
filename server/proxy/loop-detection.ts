import type { Via } from '../../sip/grammar/via.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import { randomToken } from '../../sip/util/random.js';

/**
 * Every branch the relay writes starts with this: the RFC 3261 magic
 * cookie (§8.1.1.7) and `sr`, so that the relay's own Vias are told from
 * others' even when two elements share an address.
 */
export const RELAY_BRANCH_PREFIX = 'z9hG4bKsr';
/** Hex digits of the loop-detection part that follows the prefix. */
const LOOP_TOKEN_LENGTH = 8;

/** 32-bit FNV-1a over the UTF-16 code units of `s`, continuing from `h`. */
function fnv1a(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A separator, so that ("ab","c") and ("a","bc") differ.
  h ^= 0x1f;
  return Math.imul(h, 0x01000193);
}

/**
 * The loop-detection part of a branch (RFC 3261 §16.6 step 8): a hash of
 * what decides where the request goes — Request-URI, Call-ID, From and
 * To tags, CSeq number, the Route set still to visit, Proxy-Require and
 * Proxy-Authorization. Computed on the request after Route processing
 * (§16.4), so a request that comes back with the same routing state is a
 * loop and one that comes back changed (a new Request-URI: a service that
 * calls another) is a spiral. The received top Via is left out, as RFC
 * 5393 §4.2 notes it must be: it names the previous hop, which differs
 * between the passes of a loop.
 */
export function loopToken(request: SipRequest): string {
  let h = 0x811c9dc5;
  h = fnv1a(h, request.rawUri);
  h = fnv1a(h, request.callId);
  h = fnv1a(h, request.from.tag ?? '');
  h = fnv1a(h, request.to.tag ?? '');
  h = fnv1a(h, String(request.cseq.seq));
  const hs = request.headers;
  for (let i = 0; i < hs.length; i++) {
    const k = hs[i].key;
    if (k === 'route' || k === 'proxy-require' || k === 'proxy-authorization') h = fnv1a(fnv1a(h, k), hs[i].value);
  }
  return (h >>> 0).toString(16).padStart(LOOP_TOKEN_LENGTH, '0');
}

/** A new branch for one forwarded copy: prefix, loop token, and a unique part (§16.6 step 8). */
export function relayBranch(token: string): string {
  return RELAY_BRANCH_PREFIX + token + randomToken(10);
}

/** True when `via` is one the relay wrote (branch prefix and own sent-by). */
export function isRelayVia(via: Via, isOwnSentBy: (via: Via) => boolean): boolean {
  const b = via.branch;
  return b !== undefined && b.startsWith(RELAY_BRANCH_PREFIX) && isOwnSentBy(via);
}

/**
 * §16.3 step 4: the request carries a Via the relay wrote whose loop
 * token equals `token`, the one this request gets now ({@link loopToken}):
 * it has looped. A Via of the relay with another token means a spiral,
 * which is allowed.
 */
export function isLooped(request: SipRequest, token: string, isOwnSentBy: (via: Via) => boolean): boolean {
  const vias = request.via;
  for (let i = 0; i < vias.length; i++) {
    const via = vias[i];
    if (!isRelayVia(via, isOwnSentBy)) continue;
    const b = via.branch as string;
    if (b.startsWith(token, RELAY_BRANCH_PREFIX.length)) return true;
  }
  return false;
}
