import type { SipUri } from '../../sip/grammar/uri.js';

/** One Contact an application server registered for a service. */
export interface RegisteredContact {
  /** The Contact URI: where requests for the service go. */
  uri: SipUri;
  /** The flow the REGISTER came over (NAT, or the only way in: see `flowBound`). */
  flowId: string | undefined;
  /** Reachable only over `flowId`; gone when that flow closes. */
  flowBound: boolean;
  /** Wall-clock ms when the registration runs out. */
  expiresAt: number;
}

/**
 * Where the registrar puts what application servers register (issue 3
 * item 4): the service directory implements it.
 */
export interface RegisteredTargetSink {
  /**
   * The current registered Contacts of `appServer` for `service`, replacing
   * the previous set (an empty list removes them all). `weight` is the
   * application server's share for the service in `balance` mode.
   */
  setRegistrations(appServer: string, service: string, weight: number, contacts: readonly RegisteredContact[]): void;
}
