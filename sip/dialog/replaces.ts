import { HNV } from '../grammar/char-classes.js';
import { escape, unescape } from '../grammar/escape.js';
import { parseGenericParams, skipWs, trimWs } from '../grammar/header-scanner.js';
import { Params } from '../grammar/params.js';

/**
 * The value of a Replaces header (RFC 3891 §6.1): the dialog an INVITE
 * replaces, named from the point of view of the UA that receives the
 * INVITE — `toTag` is that UA's local tag, `fromTag` its remote tag (§3).
 */
export interface ReplacesValue {
  callId: string;
  toTag: string;
  fromTag: string;
  /** `early-only`: replace the dialog only while it is early (§3). */
  earlyOnly: boolean;
}

/**
 * Parses `callid *(SEMI replaces-param)`; undefined when the value lacks
 * the Call-ID or one of the two tags, which RFC 3891 §6.1 makes mandatory.
 */
export function parseReplaces(value: string): ReplacesValue | undefined {
  const s = trimWs(value);
  const semi = s.indexOf(';');
  const callId = trimWs(semi < 0 ? s : s.slice(0, semi));
  if (callId.length === 0) return undefined;
  const params = new Params();
  try {
    const end = parseGenericParams(s, semi < 0 ? s.length : semi, params, 'replaces');
    if (skipWs(s, end) !== s.length) return undefined;
  } catch {
    return undefined;
  }
  const toTag = params.get('to-tag');
  const fromTag = params.get('from-tag');
  if (typeof toTag !== 'string' || typeof fromTag !== 'string' || !toTag || !fromTag) return undefined;
  return { callId, toTag, fromTag, earlyOnly: params.has('early-only') };
}

/** The Replaces header value for `v`. */
export function formatReplaces(v: ReplacesValue): string {
  return `${v.callId};to-tag=${v.toTag};from-tag=${v.fromTag}${v.earlyOnly ? ';early-only' : ''}`;
}

/**
 * The Replaces value escaped for a URI header (`?Replaces=…` in a Refer-To,
 * RFC 3891 §7, RFC 3515 §2.1): `;`, `=` and `@` become `%3B`, `%3D`, `%40`.
 */
export function escapeReplacesForUri(v: ReplacesValue): string {
  return escape(formatReplaces(v), URI_HEADER_VALUE);
}

/** Reads the `Replaces` URI header of a Refer-To URI's headers, unescaped once. */
export function replacesFromUriHeaders(headers: ReadonlyArray<readonly [string, string]>): ReplacesValue | undefined {
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'replaces') return parseReplaces(unescape(value));
  }
  return undefined;
}

/** hnv-unreserved / unreserved without `;`, `=`, `@` (which would end or split the value). */
const URI_HEADER_VALUE = (() => {
  const t = HNV.slice();
  for (const ch of ';=@&?') t[ch.charCodeAt(0)] = 0;
  return t;
})();
