import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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

  /**
   * `secret`: at least 16 bytes (or a string of at least 16 characters).
   * Default: 32 random bytes per process, so tokens stop verifying after a
   * restart; give the same secret to every restart of a node to keep its
   * dialogs routable across restarts.
   */
  constructor(secret?: Uint8Array | string) {
    if (secret === undefined) this.secret = randomBytes(32);
    else if (typeof secret === 'string') {
      if (secret.length < MIN_SECRET_BYTES) throw new TypeError(`RecordRouteSigner secret must be at least ${MIN_SECRET_BYTES} characters`);
      this.secret = Buffer.from(secret, 'utf8');
    } else if (secret instanceof Uint8Array) {
      if (secret.length < MIN_SECRET_BYTES) throw new TypeError(`RecordRouteSigner secret must be at least ${MIN_SECRET_BYTES} bytes`);
      this.secret = Buffer.from(secret);
    } else throw new TypeError('RecordRouteSigner secret must be bytes or a string');
  }

  /** The user part for a Record-Route URI of the dialog with `callId`. */
  sign(data: RouteTokenData, callId: string): string {
    const payload = data.calleeFlowId === undefined ? data.callerFlowId : data.callerFlowId + ' ' + data.calleeFlowId;
    return Buffer.from(payload, 'utf8').toString('base64url') + '.' + this.mac(payload, callId).toString('base64url');
  }

  /**
   * The data of a token, when it was signed by this signer for `callId`;
   * `undefined` for anything else (a forged, altered or foreign token,
   * or one taken from another dialog).
   */
  verify(token: string, callId: string): RouteTokenData | undefined {
    const dot = token.lastIndexOf('.');
    if (dot <= 0 || dot === token.length - 1) return undefined;
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    if (mac.length !== MAC_BYTES) return undefined;
    const payload = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8');
    if (payload.length === 0) return undefined;
    if (!timingSafeEqual(mac, this.mac(payload, callId))) return undefined;
    const space = payload.indexOf(' ');
    return space < 0
      ? { callerFlowId: payload, calleeFlowId: undefined }
      : { callerFlowId: payload.slice(0, space), calleeFlowId: payload.slice(space + 1) };
  }

  private mac(payload: string, callId: string): Buffer {
    return createHmac('sha256', this.secret).update(payload).update('\n').update(callId).digest().subarray(0, MAC_BYTES);
  }
}
