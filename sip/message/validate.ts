import { parseError } from '../errors.js';
import { WORD } from '../grammar/char-classes.js';
import type { SipMessage } from './sip-message.js';
import type { SipRequest } from './sip-request.js';
import type { SipResponse } from './sip-response.js';

/**
 * Checks that a message has what every transaction and dialog needs
 * (RFC 3261 §8.1.1, §8.2.1–8.2.2): a SIP/2.0 version, one each of From,
 * To, Call-ID and CSeq, at least one Via, all well formed, a CSeq method
 * equal to the request method, a sane Max-Forwards and a parseable
 * Request-URI. Parsed values stay cached on the message, so the
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
  // Contact is not checked here: a proxy never reads it (§16), and the
  // registrar and user-agent core validate it where they use it.
}

// Bits for the headers that must appear exactly once (or at most once).
const SINGLE_BITS: Readonly<Record<string, number>> = Object.assign(Object.create(null), {
  'call-id': 1,
  cseq: 2,
  from: 4,
  to: 8,
  'max-forwards': 16,
  'content-type': 32,
});

function checkSingles(msg: SipMessage): void {
  let seen = 0;
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) {
    const bit = SINGLE_BITS[hs[i].key];
    if (bit === undefined) continue;
    if (seen & bit) throw parseError('SIP_ERR_DUPLICATE_HEADER', `${hs[i].name} appears more than once`, hs[i].key);
    seen |= bit;
  }
  if (!(seen & 1)) throw parseError('SIP_ERR_MISSING_HEADER', 'missing Call-ID', 'call-id');
  if (!(seen & 2)) throw parseError('SIP_ERR_MISSING_HEADER', 'missing CSeq', 'cseq');
  if (!(seen & 4)) throw parseError('SIP_ERR_MISSING_HEADER', 'missing From', 'from');
  if (!(seen & 8)) throw parseError('SIP_ERR_MISSING_HEADER', 'missing To', 'to');
}

/** callid = word [ "@" word ] (§25.1). */
function isCallId(s: string): boolean {
  let at = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 64 /* @ */) {
      if (at >= 0 || i === 0 || i === s.length - 1) return false;
      at = i;
    } else if (c >= 128 || WORD[c] === 0) return false;
  }
  return s.length > 0;
}
