import { parseError } from '../errors.js';
import { isToken } from './char-classes.js';

/** CSeq (RFC 3261 §20.16): a 32-bit sequence number and the request method. */
export interface CSeq {
  seq: number;
  method: string;
}

const MAX_CSEQ = 0xffffffff;

/** Parses `1*DIGIT LWS Method`; the number must be below 2**32 (§8.1.1.5). */
export function parseCSeq(s: string): CSeq {
  const m = /^[ \t]*(\d+)[ \t]+(\S+)[ \t]*$/.exec(s);
  if (!m) throw parseError('SIP_ERR_CSEQ', 'malformed CSeq', 'cseq');
  const digits = m[1].replace(/^0+(?=\d)/, '');
  if (digits.length > 10 || Number(digits) > MAX_CSEQ) throw parseError('SIP_ERR_CSEQ', 'CSeq number above 2**32-1', 'cseq');
  if (!isToken(m[2])) throw parseError('SIP_ERR_CSEQ', 'CSeq method is not a token', 'cseq');
  return { seq: Number(digits), method: m[2] };
}
