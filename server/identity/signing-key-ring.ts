import { type Clock, type TimerHandle, systemClock } from '../../sip/util/clock.js';
import { type SipLogger, noopLogger } from '../../sip/util/logger.js';
import type { SigningAlgorithm, SigningKey, SigningKeyRepository } from '../store/signing-key-repository.js';
import { identityError } from './identity-error.js';
import { JwsSigner } from './jws-signer.js';

/** Options of {@link SigningKeyRing}. */
export interface SigningKeyRingOptions {
  /** The store's signing keys. */
  keys: Pick<SigningKeyRepository, 'ensureActive' | 'rotate'>;
  /** Algorithm of a key created when there is none, and of rotations. Default `EdDSA` (config `tokens.algorithm`). */
  algorithm?: SigningAlgorithm;
  /**
   * How often the active key is read again from the store, so that a
   * rotation made elsewhere (`siprelay keys rotate`, another node's admin
   * API) is picked up without a restart. Until then this node signs with
   * the retired key, which stays published, so its tokens still verify.
   * Default 60 000 ms; 0 turns periodic reloading off.
   */
  reloadIntervalMs?: number;
  clock?: Clock;
  logger?: SipLogger;
}

/**
 * The relay's active token signing key, held ready to sign synchronously.
 * The key lives in the store (every node signs with the same one, and a
 * restart keeps it); this object imports it once and swaps it when a
 * rotation is seen: at once for {@link SigningKeyRing.rotate} (the admin
 * API), within `reloadIntervalMs` for a rotation by another process.
 *
 * @example
 *   const ring = new SigningKeyRing({ keys: store.signingKeys, algorithm: config.tokens.algorithm });
 *   await ring.load();   // before the relay takes requests
 *   ring.start();        // periodic reload
 *   ring.current.sign({ sub: 'sip:alice@portal.test' });
 */
export class SigningKeyRing {
  readonly reloadIntervalMs: number;
  private readonly keys: SigningKeyRingOptions['keys'];
  private readonly algorithm: SigningAlgorithm;
  private readonly clock: Clock;
  private readonly logger: SipLogger;
  private signer: JwsSigner | undefined;
  private loading: Promise<JwsSigner> | undefined;
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(options: SigningKeyRingOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('SigningKeyRing: options are required');
    if (typeof options.keys?.ensureActive !== 'function') throw new TypeError('SigningKeyRing: `keys` must be the signing-key repository');
    const algorithm = options.algorithm ?? 'EdDSA';
    if (algorithm !== 'EdDSA' && algorithm !== 'ES256') throw new TypeError(`SigningKeyRing: algorithm must be EdDSA or ES256, got ${String(algorithm)}`);
    const interval = options.reloadIntervalMs ?? 60_000;
    if (!Number.isInteger(interval) || interval < 0) {
      throw new TypeError(`SigningKeyRing: reloadIntervalMs must be an integer >= 0, got ${String(interval)}`);
    }
    this.keys = options.keys;
    this.algorithm = algorithm;
    this.reloadIntervalMs = interval;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  /**
   * The signer of the active key.
   * @throws IdentityError `IDENTITY_ERR_NO_KEY` before the first {@link load}.
   */
  get current(): JwsSigner {
    if (!this.signer) throw identityError('IDENTITY_ERR_NO_KEY', 'no signing key loaded: call SigningKeyRing.load() at start-up');
    return this.signer;
  }

  /**
   * Reads the active key from the store (creating one at first start) and
   * signs with it from now on. Concurrent calls share one read.
   * @throws IdentityError `IDENTITY_ERR_KEY` when the stored key is unusable; store errors as they come.
   */
  load(): Promise<JwsSigner> {
    this.loading ??= this.read().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Rotates the key in the store (the old one stays published) and signs with the new one at once. */
  async rotate(algorithm: SigningAlgorithm = this.algorithm): Promise<SigningKey> {
    const key = await this.keys.rotate({ algorithm });
    // Wait for a read in flight, which may have seen the old key, before installing the new one.
    await this.loading?.catch(() => undefined);
    this.install(key);
    return key;
  }

  /** Starts reloading every `reloadIntervalMs`. */
  start(): void {
    if (this.running || this.reloadIntervalMs === 0) return;
    this.running = true;
    this.arm();
  }

  /** Stops reloading. */
  stop(): void {
    this.running = false;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.load()
        .catch((e: unknown) => this.logger.warn({ err: e }, 'cannot reload the token signing key; still signing with the previous one'))
        .finally(() => {
          if (this.running) this.arm();
        });
    }, this.reloadIntervalMs);
  }

  private async read(): Promise<JwsSigner> {
    const key = await this.keys.ensureActive({ algorithm: this.algorithm });
    return this.install(key);
  }

  private install(key: SigningKey): JwsSigner {
    if (this.signer?.kid === key.kid) return this.signer;
    const signer = new JwsSigner({ kid: key.kid, algorithm: key.algorithm, privateJwk: key.privateJwk });
    const previous = this.signer?.kid;
    this.signer = signer;
    if (previous !== undefined) this.logger.info({ kid: key.kid, previous, algorithm: key.algorithm }, 'token signing key changed');
    return signer;
  }
}
