import type { SipRequest } from '../sip/message/sip-request.js';
import type { RelayTokenClaims, RelayUser } from './relay-token-verifier.js';
import type { ServiceDetails } from './siprelay-media-types.js';

/**
 * The `req` of an INVITE handler: a user's request for a service, already
 * checked — the relay's token verified (signature, audience = this app
 * server, expiry), so `user`, `service`, `sessionId` and `facts` are the
 * relay's word, never headers a client wrote.
 *
 * @example
 * ```ts
 * app.invite('bookstore', async (req, res) => {
 *   const hits = catalogue.search(String(req.details.query ?? ''));
 *   if (req.signal.aborted) return;               // the user gave up (CANCEL)
 *   res.accept({ url: `${base}/?token=${req.token}`, title: `${hits.length} books for ${req.user.displayName ?? req.user.username}` });
 * });
 * ```
 */
export class ServiceRequest<Details extends ServiceDetails = ServiceDetails> {
  /** @internal Made by the app server. */
  constructor(
    /** The user, from the token (`sub`, `name`). */
    readonly user: RelayUser,
    /** The service asked for (`svc`). */
    readonly service: string,
    /** The relay's session id (`sid`, 32 hex digits): the key to find this session again from a page. */
    readonly sessionId: string,
    /** Client facts the relay's routing rules found (`facts`). */
    readonly facts: Readonly<Record<string, string | number | boolean>>,
    /** The client's service details: the JSON object it sent (`{}` when none). */
    readonly details: Details,
    /** The relay's token itself, to put in the service URL so the app's pages can check it. */
    readonly token: string,
    /** Every claim of the token. */
    readonly claims: RelayTokenClaims,
    /** The INVITE as received, for what the SDK does not cover. */
    readonly sip: SipRequest,
    /** The client's SDP offer, when it sent one (a WebRTC client); the SDK answers it by itself. */
    readonly sdpOffer: string | undefined,
    /** Aborted when the client cancels the request before the answer. */
    readonly signal: AbortSignal,
  ) {}

  /** The fork group (`fork`): the same for every application server asked by one forked request. */
  get forkGroup(): string {
    return this.claims.fork;
  }

  /** The session this one continues, when the user came by a transfer (`linked`): its session id. */
  get linkedSessionId(): string | undefined {
    return this.claims.linked;
  }
}
