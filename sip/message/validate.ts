import { parseError } from '../errors.js';
import { SINGLE_VALUE_HEADERS } from './header-names.js';
import type { SipMessage } from './sip-message.js';
import type { SipRequest } from './sip-request.js';
import type { SipResponse } from './sip-response.js';

/**
 * Checks that a message has what every transaction and dialog needs
 * (RFC 3261 §8.1.1, §8.2.1–8.2.2): a SIP/2.0 version, one each of From,
 * To, Call-ID and CSeq, at least one Via, all well formed, a CSeq method
 * equal to the request method, a sane Max-Forwards, parseable Contacts and
 * a parseable Request-URI. Parsed values stay cached on the message, so the
 * work is not repeated by the layers above. Throws SipParseError.
 */
export function validateMessage(msg: SipRequest | SipResponse): void {
  if (msg.version !== 'SIP/2.0') {
    throw parseError('SIP_ERR_VERSION', `SIP-Version ${msg.version} is not supported`);
  }
  checkSingles(msg);
  // Each access parses and caches, throwing on malformed values.
  void msg.via;
  void msg.from;
  void msg.to;
  const callId = msg.callId;
  if (!isCallId(callId)) throw parseError('SIP_ERR_HEADER_SYNTAX', 'malformed Call-ID', 'call-id');
  const cseq = msg.cseq;
  if (msg.isRequest) {
    if (cseq.method !== msg.method) {
      throw parseError('SIP_ERR_CSEQ_METHOD', `CSeq method ${cseq.method} differs from ${msg.method}`, 'cseq');
    }
    void msg.maxForwards;
    void msg.uri;
  }
  if (msg.hasHeader('contact')) void msg.contacts;
}

function checkSingles(msg: SipMessage): void {
  // A small fixed set, so a linear scan with a bit mask beats a Map.
  let seen = 0;
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) {
    const key = hs[i].key;
    if (!SINGLE_VALUE_HEADERS.has(key)) continue;
    const bit = key === 'call-id' ? 1 : key === 'cseq' ? 2 : key === 'from' ? 4 : key === 'to' ? 8 : key === 'max-forwards' ? 16 : 32;
    if (seen & bit) throw parseError('SIP_ERR_DUPLICATE_HEADER', `${hs[i].name} appears more than once`, key);
    seen |= bit;
  }
  if (!(seen & 1)) throw parseError('SIP_ERR_MISSING_HEADER', 'missing Call-ID', 'call-id');
  if (!(seen & 2)) throw parseError('SIP_ERR_MISSING_HEADER', 'missing CSeq', 'cseq');
  if (!(seen & 4)) throw parseError('SIP_ERR_MISSING_HEADER', 'missing From', 'from');
  if (!(seen & 8)) throw parseError('SIP_ERR_MISSING_HEADER', 'missing To', 'to');
}

/** callid = word [ "@" word ] (§25.1). */
function isCallId(s: string): boolean {
  return /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/.test(s);
}
