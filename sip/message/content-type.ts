import { parseError } from '../errors.js';
import { parseGenericParams, scanToken, skipWs, unquote } from '../grammar/header-scanner.js';
import { Params } from '../grammar/params.js';

/** A parsed Content-Type (RFC 3261 §20.15, RFC 2045 §5.1). */
export interface MediaType {
  /** `type/subtype`, lower-case. */
  type: string;
  /** Parameters with values unquoted (`boundary`, `charset`). */
  params: Map<string, string>;
}

/** Parses `type "/" subtype *(SEMI m-parameter)`; throws SIP_ERR_HEADER_SYNTAX. */
export function parseMediaType(value: string): MediaType {
  let i = skipWs(value, 0);
  const t = scanToken(value, i);
  if (t === i || value.charCodeAt(t) !== 47) throw parseError('SIP_ERR_HEADER_SYNTAX', 'bad media type', 'content-type');
  const st = scanToken(value, t + 1);
  if (st === t + 1) throw parseError('SIP_ERR_HEADER_SYNTAX', 'bad media subtype', 'content-type');
  const type = value.slice(i, st).toLowerCase();
  const raw = new Params();
  i = parseGenericParams(value, st, raw, 'content-type');
  if (skipWs(value, i) !== value.length) throw parseError('SIP_ERR_HEADER_SYNTAX', 'unexpected text in media type', 'content-type');
  const params = new Map<string, string>();
  for (const [n, v] of raw.entries()) params.set(n.toLowerCase(), v === null ? '' : unquote(v));
  return { type, params };
}
