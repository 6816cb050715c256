/**
 * The siprelay application-server SDK (docs/sdk.md): build an application
 * server in a few lines — the relay authenticates users, meters sessions
 * and bills them; the app accepts sessions, charges for what it sells, and
 * checks that page requests come through the relay.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createAppServer } from './appserver/index.js';
 *
 * const app = createAppServer({ relay: 'sip:127.0.0.1:5060;transport=tcp', domain: 'portal.test',
 *   credentials: { username: 'wineshop', password: 'wineshop-secret' },
 *   jwksUrl: 'http://127.0.0.1:8080/.well-known/jwks.json', defaultCurrency: 'EUR' });
 * app.invite('wine', { maxSessions: 10, whenFull: 503, retryAfter: 30 }, async (req, res) => {
 *   res.accept({ url: `http://localhost:8081/?token=${req.token}`, title: 'The Wine Cellar' });
 * });
 * const web = express();
 * web.use(app.middleware());
 * web.post('/buy', async (req, res) => {
 *   const receipt = await app.session(req.siprelay!.sessionId)!.charge([{ sku: 'BDX', description: 'Bordeaux', unitPrice: 2450 }]);
 *   res.json(receipt);
 * });
 * await app.listen();
 * web.listen(8081);
 * ```
 */
export { createAppServer } from './create-app-server.js';
export { AppServer, type AppServerEvents, type AppServerOptions, type AppServerState, type InviteHandler, type InviteRouteOptions } from './app-server.js';
export { AppSession, type AppSessionEvents, type AppSessionState, type EndOptions, type SessionEnd, type TransferOptions, type TransferResult } from './app-session.js';
export { ServiceRequest } from './service-request.js';
export { ServiceResponse, type AcceptServiceOptions, type RejectOptions, type RejectStatus } from './service-response.js';
export { ChangeRequest, type ChangeAnswer } from './change-request.js';
export { SessionEnding } from './session-ending.js';
export { normalizeCharge, chargeTotal, parseChargeReceiptHeader, type ChargeBody, type ChargeInput, type ChargeItemInput, type ChargeReceipt } from './charge.js';
export { AppServerError, AppServerErrorCodes, appServerError, isAppServerError, type AppServerErrorCode } from './app-server-error.js';
export { relayTokenMiddleware, type RelayTokenMiddlewareOptions, type SiprelayRequestContext, type TokenCookieOptions } from './relay-token-middleware.js';
export { RelayTokenVerifier, type RelayTokenClaims, type RelayTokenVerifierOptions, type RelayUser, type VerifiedRelayToken } from './relay-token-verifier.js';
export { JwksKeySource, type JwksFetch, type JwksKeySourceOptions } from './jwks-key-source.js';
export { RelayConnection, type ReconnectOptions, type RelayConnectionEvents, type RelayConnectionOptions, type RelayConnectionState, type SipListenOptions } from './relay-connection.js';
export { parseRelayAddress, type RelayAddress } from './relay-address.js';
export { buildServiceAnswer, checkServiceDescriptor, type SdpAnswerMode, type ServiceDescriptor } from './service-answer.js';
export { decliningSdpAnswer } from './sdp-answer.js';
export { refusalPage, escapeHtml } from './refusal-page.js';
export { AdmissionGate, type AdmissionSlot } from './admission-gate.js';
export {
  CHARGE_INFO_PACKAGE,
  CHARGE_RECEIPT_HEADER,
  SiprelayMediaTypes,
  TOKEN_HEADER,
  isPlainObject,
  readServiceDetails,
  readSiprelayBody,
  type ServiceDetails,
  type SiprelayBody,
} from './siprelay-media-types.js';
