import type { SipRequest } from '../../sip/message/sip-request.js';
import type { SipResponse } from '../../sip/message/sip-response.js';
import type { Flow } from '../../sip/transport/transport.js';
import type { AuthenticatedParty, Registrar } from '../relay-ports.js';
import type { PortalTokenIssuer } from './portal-token.js';

/** The header that carries the portal's user token on the 200 to REGISTER. */
export const USER_TOKEN_HEADER = 'Siprelay-User-Token';

/**
 * A registrar that adds the portal's user token to every successful
 * registration of a user (docs/wire-contracts.md, "Tokens given to the
 * browser"): the browser signs in once, with its SIP credentials over the
 * WebSocket, and gets what it needs for the HTTP API in the same answer.
 * Application servers' registrations get no token.
 */
export class UserTokenRegistrar implements Registrar {
  constructor(
    private readonly inner: Registrar,
    private readonly issuer: PortalTokenIssuer,
  ) {}

  async register(request: SipRequest, flow: Flow, party: AuthenticatedParty): Promise<SipResponse> {
    const response = await this.inner.register(request, flow, party);
    if (party.kind !== 'subscriber' || response.status < 200 || response.status >= 300) return response;
    const contacts = response.contacts;
    // A removal of every binding (expires=0) ends the sign-in: no token.
    if (contacts === '*' || contacts.length === 0) return response;
    let lifetime = 0;
    for (const c of contacts) lifetime = Math.max(lifetime, Number(c.params.get('expires') ?? 0));
    if (lifetime <= 0) return response;
    response.setHeader(
      USER_TOKEN_HEADER,
      this.issuer.issue({ username: party.username, domain: party.domain, displayName: party.displayName }, lifetime + 60),
    );
    return response;
  }
}
