import { importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { type Clock, systemClock } from '../sip/util/clock.js';
import { type SipLogger, noopLogger } from '../sip/util/logger.js';
import { appServerError } from './app-server-error.js';

/**
 * The fetch the key source uses (the global `fetch` by default); inject one in tests.
 *
 * @example
 * ```ts
 * new JwksKeySource({ url, fetch: (u, init) => fetch(u, { ...init, headers: { ...init.headers, 'x-trace': '1' } }) });
 * ```
 */
export type JwksFetch = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}>;

/**
 * Options of {@link JwksKeySource}. Every limit has a default.
 *
 * @example
 * ```ts
 * new JwksKeySource({ url: 'http://127.0.0.1:8080/.well-known/jwks.json', maxAgeMs: 300_000, cooldownMs: 10_000 });
 * ```
 */
export interface JwksKeySourceOptions {
  /** The relay's `/.well-known/jwks.json`. */
  url: string;
  /** Keys are fetched again after this long, in ms (a failed refetch keeps the old keys). Default 600 000 (10 minutes). */
  maxAgeMs?: number;
  /**
   * A token whose `kid` is unknown makes the source fetch again at once (the
   * relay rotated its key), but such fetches happen at most once per this
   * many ms, so that forged tokens with random kids cannot make it hammer
   * the relay; an old cache is also refetched at most this often while the
   * relay does not answer. Default 30 000.
   */
  cooldownMs?: number;
  /** Time allowed for one fetch, in ms. Default 5 000. */
  timeoutMs?: number;
  fetch?: JwksFetch;
  clock?: Clock;
  logger?: SipLogger;
}

/**
 * The header fields of a JWS the key is chosen by.
 *
 * @example
 * ```ts
 * await keys.getKey({ alg: 'EdDSA', kid: 'Zk3…' });
 * ```
 */
export interface KeySelector {
  alg: string;
  kid?: string;
}

interface KnownKey {
  jwk: JWK;
  imported: Map<string, Promise<CryptoKey | Uint8Array>>;
}

/**
 * The relay's token verification keys, fetched from its JWKS URL (RFC 7517
 * §5), cached, and fetched again when they grow old or when a token names a
 * key id the cache does not know — which is how a key rotation on the relay
 * reaches application servers. Fetches are shared: many tokens arriving at
 * once cause one request.
 *
 * @example
 * ```ts
 * const keys = new JwksKeySource({ url: 'http://localhost:8080/.well-known/jwks.json' });
 * const key = await keys.getKey({ alg: 'EdDSA', kid: 'k-2026-01' });
 * ```
 */
export class JwksKeySource {
  readonly url: string;
  private readonly maxAgeMs: number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: JwksFetch;
  private readonly clock: Clock;
  private readonly logger: SipLogger;
  private keys: KnownKey[] = [];
  private fetchedAt: number | undefined;
  private lastAttemptAt: number | undefined;
  /** When a token with an unknown kid last caused a fetch. */
  private lastUnknownKidAt: number | undefined;
  private inflight: Promise<void> | undefined;

  constructor(options: JwksKeySourceOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('JwksKeySourceOptions must be an object');
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TypeError(`jwksUrl: ${JSON.stringify(options.url)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('jwksUrl must be an http: or https: URL');
    this.url = url.toString();
    this.maxAgeMs = nonNegative(options.maxAgeMs, 600_000, 'maxAgeMs');
    this.cooldownMs = nonNegative(options.cooldownMs, 30_000, 'cooldownMs');
    this.timeoutMs = nonNegative(options.timeoutMs, 5_000, 'timeoutMs');
    const f = options.fetch ?? (globalThis.fetch as unknown as JwksFetch | undefined);
    if (typeof f !== 'function') throw new TypeError('JwksKeySource needs a fetch function (Node 20 has one)');
    this.fetchImpl = f;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  /** Key ids currently known, newest fetch. */
  get kids(): string[] {
    return this.keys.map((k) => k.jwk.kid ?? '');
  }

  /**
   * The key for a token's header. Rejects with `APPSERVER_ERR_JWKS_UNAVAILABLE`
   * when no keys could ever be fetched, `APPSERVER_ERR_TOKEN_INVALID` when
   * none matches (after one refetch, cooldown permitting).
   */
  async getKey(selector: KeySelector): Promise<CryptoKey | Uint8Array> {
    if (this.fetchedAt === undefined) await this.refresh(true);
    else if (this.clock.now() - this.fetchedAt >= this.maxAgeMs && this.cooledDown()) await this.refresh(false);
    let found = this.find(selector);
    if (!found && (this.lastUnknownKidAt === undefined || this.clock.now() - this.lastUnknownKidAt >= this.cooldownMs)) {
      this.lastUnknownKidAt = this.clock.now();
      await this.refresh(false);
      found = this.find(selector);
    }
    if (!found) {
      throw appServerError('APPSERVER_ERR_TOKEN_INVALID', `no relay key ${selector.kid === undefined ? 'without kid' : JSON.stringify(selector.kid)} for ${selector.alg}`);
    }
    let imported = found.imported.get(selector.alg);
    if (!imported) {
      imported = importJWK({ ...found.jwk, alg: found.jwk.alg ?? selector.alg }, selector.alg);
      found.imported.set(selector.alg, imported);
      // A key that cannot be imported for this algorithm is no key for it; do not keep the failure.
      imported.catch(() => found.imported.delete(selector.alg));
    }
    try {
      return await imported;
    } catch (e) {
      throw appServerError('APPSERVER_ERR_TOKEN_INVALID', `relay key ${JSON.stringify(found.jwk.kid)} does not fit ${selector.alg}`, { cause: e });
    }
  }

  private cooledDown(): boolean {
    return this.lastAttemptAt === undefined || this.clock.now() - this.lastAttemptAt >= this.cooldownMs;
  }

  /** Fetches the keys now (shared with any fetch in flight). Rejects only when `mustSucceed` and nothing is cached. */
  private refresh(mustSucceed: boolean): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => (this.inflight = undefined));
    return this.inflight.catch((e: unknown) => {
      if (mustSucceed || this.keys.length === 0) {
        throw appServerError('APPSERVER_ERR_JWKS_UNAVAILABLE', `the relay's keys could not be fetched from ${this.url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      this.logger.warn({ err: e, url: this.url }, 'JWKS refetch failed; keeping the cached keys');
    });
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = this.clock.now();
    const response = await this.fetchImpl(this.url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = (await response.json()) as Partial<JSONWebKeySet> | null;
    if (!body || !Array.isArray(body.keys)) throw new Error('not a JWK Set (no "keys" array)');
    const previous = new Map(this.keys.map((k) => [keyId(k.jwk), k]));
    this.keys = body.keys
      .filter((k): k is JWK => typeof k === 'object' && k !== null && typeof (k as JWK).kty === 'string' && (k as JWK).use !== 'enc')
      .map((jwk) => {
        const old = previous.get(keyId(jwk));
        return old && JSON.stringify(old.jwk) === JSON.stringify(jwk) ? old : { jwk, imported: new Map() };
      });
    this.fetchedAt = this.clock.now();
    this.logger.debug({ url: this.url, kids: this.kids }, 'relay keys fetched');
  }

  private find(selector: KeySelector): KnownKey | undefined {
    const fits = (k: KnownKey) => k.jwk.alg === undefined || k.jwk.alg === selector.alg;
    if (selector.kid !== undefined) return this.keys.find((k) => k.jwk.kid === selector.kid && fits(k));
    // No kid: only an unambiguous key will do.
    const candidates = this.keys.filter(fits);
    return candidates.length === 1 ? candidates[0] : undefined;
  }
}

function keyId(jwk: JWK): string {
  return jwk.kid ?? JSON.stringify(jwk);
}

function nonNegative(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0) throw new TypeError(`JwksKeySourceOptions.${name} must be a non-negative number, got ${String(v)}`);
  return v;
}
