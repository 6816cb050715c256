import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a relay Record-Route URI carries in its user part. */
export interface RouteTokenData {
  /**
   * The flow the dialog-creating request came in on: the caller's side
   * (RFC 5626 §5.3 flow token). In-dialog requests toward the caller go
   * over it, and fail with 430 when it has closed.
   */
  callerFlowId: string;
  /**
   * The flow the callee must be reached over, when it was named by a
   * registration (an application server or a user registered over a
   * connection); `undefined` when the callee is reached by its address.
   */
  calleeFlowId: string | undefined;
}

/** Bytes of HMAC-SHA256 kept in a token: 96 bits, as RFC 5626 §5.2's example. */
const MAC_BYTES = 12;
const MIN_SECRET_BYTES = 16;

/**
 * Signs and checks the user part of the relay's Record-Route URIs: a
 * flow token (RFC 5626 §5.2 "Generating Flow Tokens": the flow, with an
 * HMAC so that it cannot be forged or altered) that is also a dialog
 * stamp, since the HMAC covers the Call-ID of the dialog the relay
 * record-routed. An in-dialog request whose Route names the relay but
 * whose token does not verify against its own Call-ID did not come
 * through a dialog the relay authorized, and is refused.
 *
 * Format: `<base64url(callerFlowId SP calleeFlowId)>.<base64url(mac)>`,
 * mac = first 12 bytes of HMAC-SHA256(secret, payload LF Call-ID). Every
 * character is URI `unreserved`, so the token needs no escaping.
 */
export class RecordRouteSigner {
  private readonly secret: Buffer;
  /** HMAC's K ⊕ ipad, followed by room for the message (RFC 2104 §2). */
  private readonly inner: Buffer;
  /** HMAC's K ⊕ opad, followed by room for the inner digest. */
  private readonly outer: Buffer;
  /** Tokens verified lately (`token LF Call-ID`): the ACK and the BYE of a dialog carry the same one. */
  private readonly verified = new Map<string, RouteTokenData>();

  /**
   * `secret`: at least 16 bytes (or a string of at least 16 characters).
   * Default: 32 random bytes per process, so tokens stop verifying after a
   * restart; give the same secret to every restart of a node to keep its
   * dialogs routable across restarts. `maxCached`: verified tokens
   * remembered (default 10 000).
   */
  constructor(
    secret?: Uint8Array | string,
    private readonly maxCached = 10_000,
  ) {
    if (secret === undefined) this.secret = randomBytes(32);
    else if (typeof secret === 'string') {
      if (secret.length < MIN_SECRET_BYTES) throw new TypeError(`RecordRouteSigner secret must be at least ${MIN_SECRET_BYTES} characters`);
      this.secret = Buffer.from(secret, 'utf8');
    } else if (secret instanceof Uint8Array) {
      if (secret.length < MIN_SECRET_BYTES) throw new TypeError(`RecordRouteSigner secret must be at least ${MIN_SECRET_BYTES} bytes`);
      this.secret = Buffer.from(secret);
    } else throw new TypeError('RecordRouteSigner secret must be bytes or a string');
    if (!Number.isInteger(maxCached) || maxCached < 0) throw new TypeError('RecordRouteSigner maxCached must be a non-negative integer');
    // RFC 2104: a key longer than the block is hashed first; shorter ones are zero-padded.
    const key = this.secret.length > BLOCK ? hash('sha256', this.secret, 'buffer') : this.secret;
    this.inner = Buffer.alloc(BLOCK + MAX_MESSAGE);
    this.outer = Buffer.alloc(BLOCK + 32);
    for (let i = 0; i < BLOCK; i++) {
      const k = i < key.length ? key[i] : 0;
      this.inner[i] = k ^ 0x36;
      this.outer[i] = k ^ 0x5c;
    }
  }

  /** The user part for a Record-Route URI of the dialog with `callId`. */
  sign(data: RouteTokenData, callId: string): string {
    const payload = data.calleeFlowId === undefined ? data.callerFlowId : data.callerFlowId + ' ' + data.calleeFlowId;
    const token = Buffer.from(payload, 'utf8').toString('base64url') + '.' + this.mac(payload, callId).toString('base64url');
    // The ACK of the 2xx follows within moments with this very token: it verifies from the cache.
    this.remember(token + '\n' + callId, { callerFlowId: data.callerFlowId, calleeFlowId: data.calleeFlowId });
    return token;
  }

  /**
   * The data of a token, when it was signed by this signer for `callId`;
   * `undefined` for anything else (a forged, altered or foreign token,
   * or one taken from another dialog).
   */
  verify(token: string, callId: string): RouteTokenData | undefined {
    const cacheKey = token + '\n' + callId;
    const cached = this.verified.get(cacheKey);
    if (cached !== undefined) return cached;
    const dot = token.lastIndexOf('.');
    if (dot <= 0 || dot === token.length - 1) return undefined;
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    if (mac.length !== MAC_BYTES) return undefined;
    const payload = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8');
    if (payload.length === 0) return undefined;
    if (!timingSafeEqual(mac, this.mac(payload, callId))) return undefined;
    const space = payload.indexOf(' ');
    const data: RouteTokenData =
      space < 0 ? { callerFlowId: payload, calleeFlowId: undefined } : { callerFlowId: payload.slice(0, space), calleeFlowId: payload.slice(space + 1) };
    this.remember(cacheKey, data);
    return data;
  }

  private remember(key: string, data: RouteTokenData): void {
    if (this.maxCached === 0) return;
    // Generational: when full, start over (the live dialogs' tokens come back at their next request).
    if (this.verified.size >= this.maxCached) this.verified.clear();
    this.verified.set(key, data);
  }

  /**
   * HMAC-SHA256(secret, payload LF callId), first 12 bytes (RFC 2104 with
   * the pads prepared once: two one-shot hashes over preallocated buffers
   * instead of a new Hmac object per token).
   */
  private mac(payload: string, callId: string): Buffer {
    const message = payload + '\n' + callId;
    if (message.length * 3 > MAX_MESSAGE) {
      return createHmac('sha256', this.secret).update(message).digest().subarray(0, MAC_BYTES);
    }
    const n = this.inner.write(message, BLOCK, 'utf8');
    this.outer.set(hash('sha256', this.inner.subarray(0, BLOCK + n), 'buffer'), BLOCK);
    return hash('sha256', this.outer, 'buffer').subarray(0, MAC_BYTES);
  }
}

/** SHA-256 block size (RFC 2104's B). */
const BLOCK = 64;
/** Bytes of message the preallocated buffer takes; longer ones use a one-off Hmac. */
const MAX_MESSAGE = 1024;
