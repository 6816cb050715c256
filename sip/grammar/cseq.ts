import { parseError } from '../errors.js';
import { TOKEN } from './char-classes.js';

/** CSeq (RFC 3261 §20.16): a 32-bit sequence number and the request method. */
export interface CSeq {
  seq: number;
  method: string;
}

const MAX_CSEQ = 0xffffffff;

function bad(why: string) {
  return parseError('SIP_ERR_CSEQ', why, 'cseq');
}

/** Parses `1*DIGIT LWS Method`; the number must be below 2**32 (§8.1.1.5). */
export function parseCSeq(s: string): CSeq {
  let i = 0;
  const n = s.length;
  while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  // Leading zeros are allowed (RFC 4475 §3.1.1.1) and do not count.
  while (i < n - 1 && s.charCodeAt(i) === 48 && s.charCodeAt(i + 1) >= 48 && s.charCodeAt(i + 1) <= 57) i++;
  const digitsStart = i;
  let seq = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
    i++;
  }
  if (i === digitsStart) throw bad('malformed CSeq');
  if (i - digitsStart > 10 || seq > MAX_CSEQ) throw bad('CSeq number above 2**32-1');
  const wsStart = i;
  while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  if (i === wsStart) throw bad('malformed CSeq');
  const methodStart = i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) break;
    i++;
  }
  if (i === methodStart) throw bad('malformed CSeq');
  const method = s.slice(methodStart, i);
  while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  if (i !== n) throw bad('CSeq method is not a token');
  return { seq, method };
}
