import { parseMultipart } from '../sip/message/multipart.js';
import type { SipMessage } from '../sip/message/sip-message.js';
import { utf8Decode } from '../sip/util/bytes.js';

/**
 * The media types of docs/wire-contracts.md, the Info Package of charges and
 * the header names the SDK reads and writes.
 *
 * @example
 * ```ts
 * invite.accept({ body: JSON.stringify({ url }), contentType: SiprelayMediaTypes.service });
 * ```
 */
export const SiprelayMediaTypes = Object.freeze({
  /** The client's service details: INVITE, re-INVITE, UPDATE, REFER. */
  request: 'application/vnd.siprelay.request+json',
  /** The application server's service descriptor: 2xx to INVITE, re-INVITE, UPDATE. */
  service: 'application/vnd.siprelay.service+json',
  /** An application charge: INFO, 2xx to BYE. */
  charge: 'application/vnd.siprelay.charge+json',
  sdp: 'application/sdp',
});

/**
 * The Info Package of charges (RFC 6086), and the relay's headers.
 *
 * @example
 * ```ts
 * session.info({ package: CHARGE_INFO_PACKAGE, body, contentType: SiprelayMediaTypes.charge, ignoreRecvInfo: true });
 * ```
 */
export const CHARGE_INFO_PACKAGE = 'siprelay-charge';

/**
 * Header of the relay's token toward application servers (a JWT).
 *
 * @example
 * ```ts
 * const jwt = invite.request.header(TOKEN_HEADER);
 * ```
 */
export const TOKEN_HEADER = 'Siprelay-Token';

/**
 * Header of the relay's receipt on a stored charge: `stored;id=<charge-id>`.
 *
 * @example
 * ```ts
 * const receipt = parseChargeReceiptHeader(response.header(CHARGE_RECEIPT_HEADER));
 * ```
 */
export const CHARGE_RECEIPT_HEADER = 'Siprelay-Charge';

/**
 * A JSON object of service details, as the client sent them.
 *
 * @example
 * ```ts
 * const details: ServiceDetails = { category: 'red', budget: 3000 };
 * ```
 */
export type ServiceDetails = Record<string, unknown>;

/**
 * What a message body holds for the SDK: the siprelay JSON part (`json`,
 * undefined when there is none), and an SDP offer (`sdp`), each found either
 * as the whole body or as a part of `multipart/mixed`.
 *
 * @example
 * ```ts
 * const { json, sdp, multipart } = readSiprelayBody(request, SiprelayMediaTypes.request);
 * ```
 */
export interface SiprelayBody {
  /** The parsed JSON of the part with `mediaType`; undefined when absent. */
  json: unknown;
  /** True when a part (or the body) of `mediaType` was there but is not JSON. */
  malformed: boolean;
  /** The SDP text, when the message carries SDP. */
  sdp: string | undefined;
  /** True when the body was `multipart/*`. */
  multipart: boolean;
}

const EMPTY: SiprelayBody = Object.freeze({ json: undefined, malformed: false, sdp: undefined, multipart: false });

/**
 * Reads the siprelay JSON part of `mediaType` and any SDP from `message`,
 * as the whole body or inside `multipart/mixed` (docs/wire-contracts.md: a
 * WebRTC client puts the JSON beside its SDP). Never throws: a body that
 * does not parse is reported as `malformed`.
 *
 * @example
 * ```ts
 * const { json, malformed, sdp } = readSiprelayBody(invite.request, SiprelayMediaTypes.request);
 * if (malformed) return invite.reject(400, { reason: 'Bad Service Details' });
 * ```
 */
export function readSiprelayBody(message: SipMessage, mediaType: string): SiprelayBody {
  if (message.body.length === 0) return EMPTY;
  let type: string | undefined;
  try {
    type = message.contentType;
  } catch {
    return { ...EMPTY, malformed: true };
  }
  if (type === undefined) return EMPTY;
  if (type.startsWith('multipart/')) {
    let parts;
    try {
      parts = parseMultipart(message.header('content-type') ?? '', message.body);
    } catch {
      return { ...EMPTY, malformed: true, multipart: true };
    }
    const out: SiprelayBody = { json: undefined, malformed: false, sdp: undefined, multipart: true };
    for (const part of parts) {
      if (part.contentType === mediaType && out.json === undefined && !out.malformed) {
        const parsed = parseJson(part.body);
        if (parsed.ok) out.json = parsed.value;
        else out.malformed = true;
      } else if (part.contentType === SiprelayMediaTypes.sdp && out.sdp === undefined) {
        out.sdp = utf8Decode(part.body);
      }
    }
    return out;
  }
  if (type === mediaType) {
    const parsed = parseJson(message.body);
    return parsed.ok ? { ...EMPTY, json: parsed.value } : { ...EMPTY, malformed: true };
  }
  if (type === SiprelayMediaTypes.sdp) return { ...EMPTY, sdp: message.bodyText };
  return EMPTY;
}

/**
 * The client's service details in `message` (INVITE, re-INVITE, UPDATE):
 * the JSON object of `application/vnd.siprelay.request+json`, whole or in
 * `multipart/mixed`; `{}` when the body has none; `undefined` when it has
 * one that is not a JSON object (the caller answers 400).
 *
 * @example
 * ```ts
 * const details = readServiceDetails(request);
 * if (details === undefined) return incoming.reject(400, { reason: 'Bad Service Details' });
 * ```
 */
export function readServiceDetails(message: SipMessage): ServiceDetails | undefined {
  const body = readSiprelayBody(message, SiprelayMediaTypes.request);
  if (body.malformed) return undefined;
  if (body.json === undefined) return {};
  return isPlainObject(body.json) ? body.json : undefined;
}

/**
 * True for a JSON object (not an array, not null).
 *
 * @example
 * ```ts
 * isPlainObject({ category: 'red' }); // true
 * isPlainObject([1, 2]);              // false
 * ```
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8Decode(bytes)) as unknown };
  } catch {
    return { ok: false };
  }
}
