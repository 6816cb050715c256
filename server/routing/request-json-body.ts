import { parseMultipart } from '../../sip/message/multipart.js';
import type { SipRequest } from '../../sip/message/sip-request.js';

/** The client's service details (design brief, wire contracts). */
export const REQUEST_JSON_TYPE = 'application/vnd.siprelay.request+json';

/** Limits of {@link readRequestJson}. */
export interface RequestJsonLimits {
  /** Largest JSON text read, in bytes; a bigger one counts as no body. */
  maxBytes: number;
  /** Deepest nesting of objects and arrays; a deeper one counts as no body. */
  maxDepth: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The client's JSON service details: the body when its Content-Type is
 * `application/vnd.siprelay.request+json`, or the first part of that type
 * in a `multipart/mixed` body (a WebRTC client puts it beside its SDP).
 * Returns `undefined` for every other body and for anything malformed,
 * encoded (Content-Encoding other than identity), not UTF-8, bigger than
 * `maxBytes` or nested deeper than `maxDepth`. Never throws: the body is
 * whatever the client sent.
 */
export function readRequestJson(request: SipRequest, limits: RequestJsonLimits): unknown {
  try {
    const type = request.contentType;
    if (type === undefined || request.body.length === 0) return undefined;
    const encoding = request.header('content-encoding');
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return undefined;
    let bytes: Uint8Array | undefined;
    if (type === REQUEST_JSON_TYPE) bytes = request.body;
    else if (type === 'multipart/mixed') {
      const part = parseMultipart(request.header('content-type')!, request.body).find((p) => p.contentType === REQUEST_JSON_TYPE);
      bytes = part?.body;
    }
    if (bytes === undefined || bytes.length > limits.maxBytes) return undefined;
    const text = decoder.decode(bytes);
    if (nestingDepth(text) > limits.maxDepth) return undefined;
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The deepest nesting of `{` and `[` outside strings. Checked before
 * JSON.parse so that a body made of ten thousand brackets costs one linear
 * scan, not a parse and a deep walk.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) max = depth;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return max;
}

/**
 * The value at a dotted path (`items.0.sku`): object members by name (own
 * members only, so `__proto__` or `constructor` never reach a prototype),
 * array elements by decimal index. `undefined` when any step is missing.
 */
export function valueAtPath(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const step of path) {
    if (value === null || typeof value !== 'object') return undefined;
    if (Array.isArray(value)) {
      if (!/^(?:0|[1-9][0-9]{0,8})$/.test(step)) return undefined;
      value = value[Number(step)];
    } else {
      if (!Object.hasOwn(value, step)) return undefined;
      value = (value as Record<string, unknown>)[step];
    }
  }
  return value;
}
