import { isSipParseError } from '../../sip/errors.js';
import { parseMessage } from '../../sip/message/parser.js';
import { serializeMessage } from '../../sip/message/serializer.js';
import type { SipMessage } from '../../sip/message/sip-message.js';
import { StreamFramer } from '../../sip/message/stream-framer.js';

/**
 * Parses `bytes` as the relay would and touches every typed accessor, then
 * serialises and parses again. Returns normally or throws; anything thrown
 * that is not a SipParseError is a parser bug.
 */
export function exerciseMessage(bytes: Uint8Array): 'ok' | 'rejected' {
  let msg: SipMessage;
  try {
    msg = parseMessage(bytes, { validate: true });
  } catch (e) {
    if (isSipParseError(e)) return 'rejected';
    throw e;
  }
  const touch = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!isSipParseError(e)) throw e;
    }
  };
  touch(() => msg.routes);
  touch(() => msg.recordRoutes);
  touch(() => msg.contacts);
  touch(() => msg.headerList('accept'));
  touch(() => msg.optionTags('require'));
  touch(() => msg.contentType);
  touch(() => msg.bodyText);
  const again = parseMessage(serializeMessage(msg), { validate: true });
  if (again.callId !== msg.callId) throw new Error('round trip changed the Call-ID');
  // The same bytes on a stream: must frame or fail with a typed error.
  try {
    new StreamFramer({ maxMessageSize: 1 << 20 }).push(bytes);
  } catch (e) {
    if (!isSipParseError(e)) throw e;
  }
  return 'ok';
}
