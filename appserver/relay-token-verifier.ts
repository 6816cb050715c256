import { errors as joseErrors, jwtVerify, createLocalJWKSet, type JSONWebKeySet, type JWTPayload } from 'jose';
import { type Clock, systemClock } from '../sip/util/clock.js';
import { AppServerError, appServerError } from './app-server-error.js';
import type { JwksKeySource } from './jwks-key-source.js';

/**
 * The claims of the relay's token (docs/wire-contracts.md, "Headers the
 * relay asserts"), as the SDK hands them to applications.
 *
 * @example
 * ```ts
 * const { sub, svc, sid, facts } = req.claims; // 'sip:alice@portal.test', 'wine', '3f2a…', { plan: 'gold' }
 * ```
 */
export interface RelayTokenClaims {
  /** The relay (its public URL). */
  iss: string;
  /** The user's address of record: `sip:alice@portal.test`. */
  sub: string;
  /** The application-server account the token is for. */
  aud: string;
  /** The relay's session id (32 lower-case hex digits), as in Session-ID. */
  sid: string;
  /** The service asked for. */
  svc: string;
  /** Client facts the relay's routing rules found. */
  facts: Record<string, string | number | boolean>;
  /** Fork group shared by the branches of one forked request. */
  fork: string;
  /** The session this one continues (a transfer: REFER, Replaces, Target-Dialog), when the relay linked them: its `sid`. */
  linked?: string;
  /** The user's display name, when the account has one. */
  name?: string;
  iat: number;
  exp: number;
  jti?: string;
}

/**
 * Who the user is, as the relay vouches for it in its token — never read
 * from headers a client could have written.
 *
 * @example
 * ```ts
 * `Welcome, ${req.user.displayName ?? req.user.username}` // "Welcome, Alice"
 * ```
 */
export interface RelayUser {
  /** `sip:alice@portal.test`. */
  aor: string;
  /** The user part of the AOR: `alice`. */
  username: string;
  /** The domain of the AOR: `portal.test`. */
  domain: string;
  /** The display name the relay knows, if any. */
  displayName: string | undefined;
}

/**
 * A token that verified: its claims, the user it names, and the token text
 * itself (an application may put it in its service URL).
 *
 * @example
 * ```ts
 * const { user, claims } = await verifier.verify(jwt);
 * ```
 */
export interface VerifiedRelayToken {
  token: string;
  claims: RelayTokenClaims;
  user: RelayUser;
}

/**
 * Options of {@link RelayTokenVerifier}.
 *
 * @example
 * ```ts
 * new RelayTokenVerifier({ audience: 'wineshop', keys: new JwksKeySource({ url }), issuer: 'https://relay.portal.test' });
 * ```
 */
export interface RelayTokenVerifierOptions {
  /** This application server's account name: tokens for anyone else are refused (`aud`). */
  audience: string;
  /** Where the relay's public keys come from: a {@link JwksKeySource}, or a fixed JWK Set. */
  keys: JwksKeySource | JSONWebKeySet;
  /** When set, the `iss` every token must carry. Default: not checked (the keys already say who signed). */
  issuer?: string;
  /** Signature algorithms accepted. Default `['EdDSA', 'ES256']`, the relay's. */
  algorithms?: readonly string[];
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** Wall-clock time for expiry checks. Default the system clock. */
  clock?: Pick<Clock, 'wallNow'>;
}

const SESSION_ID = /^[0-9a-f]{32}$/;
const AOR = /^sips?:([^@\s;?]+)@([^\s;?>]+)$/i;

/**
 * Checks the relay's tokens: signature against the relay's keys, audience
 * = this application server's account, expiry, and the shape of the claims
 * the SDK relies on. Every refusal is an {@link AppServerError}:
 * `APPSERVER_ERR_TOKEN_MISSING`, `…_TOKEN_INVALID` (malformed, forged,
 * unknown key, missing claim), `…_TOKEN_EXPIRED`, `…_TOKEN_AUDIENCE`, or
 * `…_JWKS_UNAVAILABLE` when the keys cannot be fetched.
 *
 * @example
 * ```ts
 * const verifier = new RelayTokenVerifier({ audience: 'wineshop', keys: new JwksKeySource({ url: jwksUrl }) });
 * const { user, claims } = await verifier.verify(invite.request.header('Siprelay-Token'));
 * ```
 */
export class RelayTokenVerifier {
  readonly audience: string;
  private readonly getKey: Parameters<typeof jwtVerify>[1];
  private readonly issuer: string | undefined;
  private readonly algorithms: string[];
  private readonly tolerance: number;
  private readonly clock: Pick<Clock, 'wallNow'>;

  constructor(options: RelayTokenVerifierOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('RelayTokenVerifierOptions must be an object');
    if (typeof options.audience !== 'string' || options.audience === '') throw new TypeError('RelayTokenVerifierOptions.audience must be the account name');
    const keys = options.keys;
    if (keys === null || typeof keys !== 'object') throw new TypeError('RelayTokenVerifierOptions.keys must be a JwksKeySource or a JWK Set');
    if ('getKey' in keys && typeof keys.getKey === 'function') {
      const source = keys;
      this.getKey = (header) => source.getKey({ alg: header.alg ?? '', kid: header.kid });
    } else if (Array.isArray((keys as JSONWebKeySet).keys)) {
      const local = createLocalJWKSet(keys as JSONWebKeySet);
      this.getKey = async (header, token) => {
        try {
          return await local(header, token);
        } catch (e) {
          throw appServerError('APPSERVER_ERR_TOKEN_INVALID', 'no relay key matches the token', { cause: e });
        }
      };
    } else throw new TypeError('RelayTokenVerifierOptions.keys must be a JwksKeySource or a JWK Set');
    this.audience = options.audience;
    this.issuer = options.issuer;
    this.algorithms = [...(options.algorithms ?? ['EdDSA', 'ES256'])];
    if (this.algorithms.length === 0) throw new TypeError('RelayTokenVerifierOptions.algorithms must name at least one algorithm');
    this.tolerance = options.clockToleranceSeconds ?? 30;
    if (!Number.isFinite(this.tolerance) || this.tolerance < 0) throw new TypeError('RelayTokenVerifierOptions.clockToleranceSeconds must be a non-negative number');
    this.clock = options.clock ?? systemClock;
  }

  /** Verifies `token` (a JWS compact string); see the class comment for the refusals. */
  async verify(token: string | undefined | null): Promise<VerifiedRelayToken> {
    if (token === undefined || token === null || token.trim() === '') throw appServerError('APPSERVER_ERR_TOKEN_MISSING', 'no relay token');
    const jwt = token.trim();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, this.getKey, {
        audience: this.audience,
        issuer: this.issuer,
        algorithms: this.algorithms,
        clockTolerance: this.tolerance,
        currentDate: new Date(this.clock.wallNow()),
        requiredClaims: ['exp', 'sub', 'aud'],
      }));
    } catch (e) {
      throw toTokenError(e);
    }
    const claims = checkClaims(payload);
    const m = AOR.exec(claims.sub) as RegExpExecArray;
    const user: RelayUser = { aor: claims.sub, username: decodeURIComponentSafe(m[1]), domain: m[2].toLowerCase(), displayName: claims.name };
    return { token: jwt, claims, user };
  }
}

/** Maps what jose (or the key source) threw to the SDK's token errors. */
function toTokenError(e: unknown): AppServerError {
  if (e instanceof AppServerError) return e;
  if (e instanceof joseErrors.JWTExpired) return appServerError('APPSERVER_ERR_TOKEN_EXPIRED', 'the relay token has expired', { cause: e });
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return appServerError('APPSERVER_ERR_TOKEN_AUDIENCE', 'the relay token is for another application server', { cause: e });
    if (e.claim === 'nbf') return appServerError('APPSERVER_ERR_TOKEN_EXPIRED', 'the relay token is not valid yet', { cause: e });
    return appServerError('APPSERVER_ERR_TOKEN_INVALID', `the relay token's ${e.claim} claim is not acceptable`, { cause: e });
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return appServerError('APPSERVER_ERR_TOKEN_INVALID', 'the relay token signature does not verify', { cause: e });
  return appServerError('APPSERVER_ERR_TOKEN_INVALID', 'the relay token is malformed', { cause: e });
}

function checkClaims(p: JWTPayload): RelayTokenClaims {
  const bad = (claim: string) => appServerError('APPSERVER_ERR_TOKEN_INVALID', `the relay token's ${claim} claim is missing or malformed`);
  if (typeof p.sub !== 'string' || !AOR.test(p.sub)) throw bad('sub');
  if (typeof p.sid !== 'string' || !SESSION_ID.test(p.sid)) throw bad('sid');
  if (typeof p.svc !== 'string' || p.svc === '') throw bad('svc');
  const facts = p.facts ?? {};
  if (typeof facts !== 'object' || facts === null || Array.isArray(facts)) throw bad('facts');
  if (p.fork !== undefined && typeof p.fork !== 'string') throw bad('fork');
  if (p.name !== undefined && typeof p.name !== 'string') throw bad('name');
  if (p.linked !== undefined && (typeof p.linked !== 'string' || !SESSION_ID.test(p.linked))) throw bad('linked');
  const aud = Array.isArray(p.aud) ? p.aud[0] : p.aud;
  return {
    iss: typeof p.iss === 'string' ? p.iss : '',
    sub: p.sub,
    aud: aud ?? '',
    sid: p.sid,
    svc: p.svc,
    facts: facts as Record<string, string | number | boolean>,
    fork: typeof p.fork === 'string' ? p.fork : '',
    name: typeof p.name === 'string' && p.name !== '' ? p.name : undefined,
    ...(typeof p.linked === 'string' ? { linked: p.linked } : {}),
    iat: typeof p.iat === 'number' ? p.iat : 0,
    exp: p.exp as number,
    jti: typeof p.jti === 'string' ? p.jti : undefined,
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
