/**
 * Header-name canonicalisation: lower-case keys, compact forms expanded
 * (RFC 3261 §7.3.3 and the IANA registry), and the display spelling used
 * when the stack writes a header itself.
 */
const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

const DISPLAY: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'session-id': 'Session-ID',
  'min-se': 'Min-SE',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/** The lower-case full name for a header name as written (`V` → `via`). */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT[lower] ?? lower;
  return lower;
}

/** The conventional spelling of a header name (`call-id` → `Call-ID`). */
export function headerDisplayName(name: string): string {
  const key = headerKey(name);
  const known = DISPLAY[key];
  if (known) return known;
  if (name.length > 1 && name !== key) return name;
  return key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

/**
 * Headers that may appear at most once (RFC 3261 §7.3.1: all but those whose
 * grammar is a comma list). A second copy makes the message malformed
 * (RFC 4475 §3.3.8).
 */
export const SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-type',
]);
