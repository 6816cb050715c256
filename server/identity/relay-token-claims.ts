/**
 * The claims of the token the relay gives application servers in
 * `Siprelay-Token` (docs/protocol.md, "Identity assertion"). Registered
 * claims are RFC 7519 §4.1; the others are the relay's own.
 */
export interface RelayTokenClaims {
  /** The relay: its public URL (`http.publicUrl`), where `/.well-known/jwks.json` is. */
  iss: string;
  /** The user's address of record, `sip:alice@portal.test`. */
  sub: string;
  /** The application-server account the branch goes to; only it should accept the token. */
  aud: string;
  /** The relay's session id of this branch (RFC 7989 form, 32 hex digits); the same as in Session-ID. */
  sid: string;
  /** The service requested. */
  svc: string;
  /** Client facts found by the routing rules. */
  facts: Record<string, string | number | boolean>;
  /** Fork group: shared by the branches of one forked request. */
  fork: string;
  /**
   * The session this one continues (transfer, flow 8: REFER, Replaces,
   * Target-Dialog), when the relay linked them; its `sid`.
   */
  linked?: string;
  /** The user's display name, when the account has one (OpenID Connect's `name`). */
  name?: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expiry, seconds since the epoch: `iat` + `tokens.lifetimeSeconds`. */
  exp: number;
  /** Unique token id (about 131 random bits), to detect a token used twice. */
  jti: string;
}
