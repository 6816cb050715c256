import type { Uri } from '../../sip/grammar/uri.js';

/**
 * One place a forwarded request may go (RFC 3261 §16.5 "target set"):
 * a Request-URI, and for targets reachable only over a connection they
 * opened (a WebSocket client, an application server that registered over
 * TCP) the flow to use.
 */
export interface ProxyTarget {
  /** Request-URI of the copy sent to this target; undefined keeps the request's (loose routing, §16.6 step 2). */
  uri?: Uri;
  /**
   * Send over this flow, whatever the Request-URI says (RFC 5626 §5.3).
   * When it has closed the branch fails with 430 Flow Failed.
   */
  flowId?: string;
  /** Relative share in `balance` mode. Default 1. */
  weight?: number;
  /** Sessions currently on this target, for `balance` mode. Default 0. */
  load?: number;
  /** Identifies the target for Retry-After back-off in `balance` mode; default the URI as text. */
  key?: string;
  /** Whatever the owner of the response context keeps per target (the relay: the service target and session). */
  data?: unknown;
}

/**
 * How a response context uses its targets (issue 3 item 6):
 * `race` and `all` fork in parallel (§16.6), `race` cancelling the rest on
 * the first 2xx, `all` keeping every 2xx (RFC 3841 no-cancel); `balance`
 * tries one target at a time (sequential forking, §16.6 "sequential
 * search"); `single` is one target with no failover (in-dialog requests).
 */
export type ForkMode = 'single' | 'race' | 'all' | 'balance';
