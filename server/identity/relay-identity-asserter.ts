import { headerKey } from '../../sip/message/header-names.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import { type Clock, systemClock } from '../../sip/util/clock.js';
import { randomToken } from '../../sip/util/random.js';
import type { AssertionContext, IdentityAsserter } from '../relay-ports.js';
import type { JwsSigner } from './jws-signer.js';
import type { RelayTokenClaims } from './relay-token-claims.js';

/** Options of {@link RelayIdentityAsserter}. */
export interface RelayIdentityAsserterOptions {
  /** The token's `iss`: the relay's public URL, under which `/.well-known/jwks.json` is served. */
  issuer: string;
  /** Where the active signing key is; a {@link SigningKeyRing}. */
  keys: { readonly current: JwsSigner };
  /** Token lifetime, seconds (config `tokens.lifetimeSeconds`). Default 3600. */
  tokenLifetimeSeconds?: number;
  /** Further headers to remove from requests entering the relay, besides {@link CLIENT_IDENTITY_HEADERS}. */
  extraStrippedHeaders?: readonly string[];
  /** Wall-clock time for `iat`/`exp`. Default: the system clock. */
  clock?: Clock;
  /** Told after each token signed (metrics). */
  onTokenSigned?: () => void;
}

/** The header carrying the relay's token. */
export const TOKEN_HEADER = 'Siprelay-Token';

/**
 * Headers a client must not be able to set, because an application server
 * would take them as the relay's word: the ones the relay asserts
 * (P-Asserted-Identity, Session-ID, Siprelay-Token) and other identity
 * assertions an application server might believe — P-Preferred-Identity
 * (RFC 3325 §9.2, a request to assert that only the trust domain may
 * grant), Remote-Party-ID (the pre-RFC 3325 draft), Identity and
 * Identity-Info (RFC 8224, RFC 4474). Operators add others (a charging
 * vector, a header of their own) with `extraStrippedHeaders`.
 */
export const CLIENT_IDENTITY_HEADERS: readonly string[] = [
  'P-Asserted-Identity',
  'P-Preferred-Identity',
  'Session-ID',
  TOKEN_HEADER,
  'Identity',
  'Identity-Info',
  'Remote-Party-ID',
];

/** RFC 7989 §7: the null UUID in `remote` until the far end is known. */
const NULL_SESSION_UUID = '00000000000000000000000000000000';
const SESSION_UUID = /^[0-9a-f]{32}$/;
// Control characters would end the header line (header injection); the store does not forbid them in names.
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * The relay's {@link IdentityAsserter}: the relay is the trust domain of
 * RFC 3325 toward its application servers. It removes every identity
 * header a client sent and adds, per branch:
 *
 *     P-Asserted-Identity: "Alice A." <sip:alice@portal.test>
 *     Session-ID: 3f2a…e1;remote=00000000000000000000000000000000
 *     Siprelay-Token: eyJhbGciOiJFZERTQSIs…
 *
 * Synchronous and allocation-light: the token is signed with Node's crypto
 * from a key imported once ({@link JwsSigner}).
 */
export class RelayIdentityAsserter implements IdentityAsserter {
  readonly issuer: string;
  readonly tokenLifetimeSeconds: number;
  private readonly keys: RelayIdentityAsserterOptions['keys'];
  private readonly clock: Clock;
  private readonly onTokenSigned: () => void;
  /** Lower-case keys of the headers to strip, compact forms expanded. */
  private readonly stripped: ReadonlySet<string>;
  private readonly strippedNames: readonly string[];

  constructor(options: RelayIdentityAsserterOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('RelayIdentityAsserter: options are required');
    if (typeof options.issuer !== 'string' || options.issuer.length === 0) {
      throw new TypeError('RelayIdentityAsserter: issuer must be a non-empty string');
    }
    if (options.keys === null || typeof options.keys !== 'object') throw new TypeError('RelayIdentityAsserter: `keys` is required');
    const lifetime = options.tokenLifetimeSeconds ?? 3600;
    if (!Number.isInteger(lifetime) || lifetime < 1) {
      throw new TypeError(`RelayIdentityAsserter: tokenLifetimeSeconds must be an integer >= 1, got ${String(lifetime)}`);
    }
    const names = [...CLIENT_IDENTITY_HEADERS, ...(options.extraStrippedHeaders ?? [])];
    for (const n of names) {
      if (typeof n !== 'string' || !/^[A-Za-z0-9!%'*+.^_`|~-]+$/.test(n)) throw new TypeError(`RelayIdentityAsserter: bad header name ${String(n)}`);
    }
    this.issuer = options.issuer;
    this.tokenLifetimeSeconds = lifetime;
    this.keys = options.keys;
    this.clock = options.clock ?? systemClock;
    this.onTokenSigned = options.onTokenSigned ?? (() => undefined);
    this.stripped = new Set(names.map(headerKey));
    this.strippedNames = [...this.stripped];
  }

  stripClientIdentity(request: SipRequest): void {
    // One pass to find out whether there is anything to do: usually there is not.
    const headers = request.headers;
    let found = false;
    for (let i = 0; i < headers.length && !found; i++) found = this.stripped.has(headers[i].key);
    if (!found) return;
    for (const name of this.strippedNames) request.removeHeader(name);
  }

  /**
   * Adds the three headers to one branch, replacing any already there.
   * @throws TypeError when `sessionId` is not 32 lower-case hex digits (a bug of the caller).
   * @throws IdentityError `IDENTITY_ERR_NO_KEY` when no signing key was loaded.
   */
  assert(branch: SipRequest, context: AssertionContext): void {
    const { party, sessionId } = context;
    if (!SESSION_UUID.test(sessionId)) throw new TypeError(`session id must be 32 lower-case hex digits, got ${String(sessionId)}`);
    const aor = `sip:${party.username}@${party.domain}`;
    const display = party.displayName?.replace(CONTROL, '');
    // RFC 3325 §9.1: name-addr; the display name always quoted (RFC 3261 §25.1 quoted-string).
    branch.setHeader('P-Asserted-Identity', display ? `${quote(display)} <${aor}>` : `<${aor}>`);
    // RFC 7989 §7: local-uuid;remote=<null UUID> until the application server answers with its own.
    branch.setHeader('Session-ID', `${sessionId};remote=${NULL_SESSION_UUID}`);
    branch.setHeader(TOKEN_HEADER, this.token(context, aor, display));
  }

  /** Signs the token of one branch. */
  token(context: AssertionContext, aor = `sip:${context.party.username}@${context.party.domain}`, display = context.party.displayName): string {
    const iat = Math.floor(this.clock.wallNow() / 1000);
    const claims: RelayTokenClaims = {
      iss: this.issuer,
      sub: aor,
      aud: context.target.appServer,
      sid: context.sessionId,
      svc: context.service,
      facts: context.facts,
      fork: context.forkGroup,
      iat,
      exp: iat + this.tokenLifetimeSeconds,
      jti: randomToken(22),
    };
    if (display) claims.name = display;
    if (context.linkedFrom !== undefined) claims.linked = context.linkedFrom;
    const jwt = this.keys.current.sign(claims);
    this.onTokenSigned();
    return jwt;
  }
}

function quote(s: string): string {
  return '"' + s.replace(/[\\"]/g, (m) => '\\' + m) + '"';
}
