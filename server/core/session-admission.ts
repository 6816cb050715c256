import type { SipRequest } from '../../sip/message/sip-request.js';
import type { ServiceConfig } from '../config/service-config.js';
import type { AuthenticatedParty } from '../relay-ports.js';

/** What {@link SessionAdmission.admit} decided. */
export type AdmissionVerdict =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      /** The status to answer the INVITE with (402 when the user cannot pay). */
      readonly status: number;
      /** Reason phrase: one line of printable ASCII. */
      readonly reason?: string;
      readonly headers?: ReadonlyArray<readonly [string, string]>;
    };

/**
 * Whether a new session may start: called by the relay core for every
 * out-of-dialog INVITE to a service, once it is authenticated and routed
 * and the relay's own limits passed, before anything is forwarded. The
 * relay wires accounting's credit check here (402 for a user who cannot
 * afford the tariff's minimum). A rejected promise answers 500.
 */
export interface SessionAdmission {
  admit(party: AuthenticatedParty, service: ServiceConfig, request: SipRequest): AdmissionVerdict | Promise<AdmissionVerdict>;
}
