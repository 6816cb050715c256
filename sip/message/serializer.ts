import { encodeWithBody } from '../util/bytes.js';
import type { SipMessage } from './sip-message.js';

/**
 * The wire bytes of a message: header lines that were not touched are
 * written exactly as received; Content-Length always matches the body.
 */
export function serializeMessage(msg: SipMessage): Uint8Array {
  return encodeWithBody(msg.headText(), msg.body);
}
