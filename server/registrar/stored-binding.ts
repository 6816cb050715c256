import type { Binding } from '../relay-ports.js';

/**
 * A binding as the location service keeps it: the {@link Binding} the
 * relay core reads, plus what the registrar needs for the next REGISTER
 * (RFC 3261 §10.3 step 7: Call-ID and CSeq) and for the 200 it answers
 * (the Contact parameters as registered).
 */
export interface StoredBinding extends Binding {
  /** Call-ID of the REGISTER that last wrote the binding. */
  readonly callId: string;
  /** Its CSeq number: a later REGISTER with the same Call-ID must have a higher one. */
  readonly cseq: number;
  /**
   * The Contact's header parameters except `expires`, as written
   * (`;+sip.instance="<urn:uuid:…>";reg-id=1;q=0.5`), echoed in the 200.
   */
  readonly contactParams: string;
  /** Display name of the Contact, if any. */
  readonly displayName?: string;
  /**
   * True when the contact can be reached only over `flowId`: a `.invalid`
   * host (RFC 7118 §5.2), a REGISTER that came over WS/WSS (nobody opens a
   * WebSocket toward a browser), or outbound (RFC 5626: `;ob` or
   * `+sip.instance` with `reg-id`). Such a binding goes when its flow closes.
   * Other bindings only forget the flow then.
   */
  readonly flowBound: boolean;
  /** The relay node that holds `flowId` (flow ids name connections of one process). */
  readonly node: string;
  /** Wall-clock ms when the binding was last written (newest first among equal q). */
  readonly updatedAt: number;
}

/** Best first: highest q (absent counts as 1.0), then most recently refreshed (RFC 3261 §16.6 leaves the order to the proxy). */
export function compareBindings(a: Binding & { updatedAt: number }, b: Binding & { updatedAt: number }): number {
  return (b.q ?? 1) - (a.q ?? 1) || b.updatedAt - a.updatedAt;
}
