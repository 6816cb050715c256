import { parseMultipart } from '../../../sip/message/multipart.js';
import type { SipMessage } from '../../../sip/message/sip-message.js';
import { SiprelayMediaTypes } from './siprelay-media-types.js';

/**
 * What an application server says about the service it opened
 * (`application/vnd.siprelay.service+json`): `url` is what the portal shows
 * in the pane; `title`, `description` and anything else are shown beside it
 * (the bookstores add `results`, `inStock`, `cheapest`).
 */
export interface ServiceDescriptor {
  readonly url: string;
  readonly title?: string;
  readonly description?: string;
  /** Every field as sent, for services that add their own. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * Reads the descriptor from a 2xx: the whole body when it is
 * `application/vnd.siprelay.service+json` (or plain JSON), the siprelay part
 * of a `multipart/mixed` body, else a `Call-Info: <url>;purpose=info`
 * header (the form for clients that need SDP, docs/sdk.md). Only absolute
 * `http:`/`https:` URLs are taken: the URL goes into an iframe, and a
 * `javascript:` URL from a misbehaving server must not run in the portal.
 * `undefined` when there is none.
 *
 * @example
 * ```ts
 * const d = serviceDescriptorOf(session.inviteResponse!);
 * if (d) frame.src = d.url;
 * ```
 */
export function serviceDescriptorOf(message: SipMessage): ServiceDescriptor | undefined {
  const type = message.contentType;
  let json: string | undefined;
  if (type === SiprelayMediaTypes.service || type === 'application/json') {
    json = message.bodyText;
  } else if (type !== undefined && type.startsWith('multipart/')) {
    try {
      const part = parseMultipart(message.header('content-type')!, message.body).find((p) => p.contentType === SiprelayMediaTypes.service);
      if (part) json = new TextDecoder().decode(part.body);
    } catch {
      json = undefined;
    }
  }
  if (json !== undefined) {
    const fromBody = descriptorFromJson(json);
    if (fromBody) return fromBody;
  }
  for (const value of message.headerList('call-info')) {
    const m = /^\s*<([^>]+)>(.*)$/.exec(value);
    if (m && /;\s*purpose\s*=\s*"?info"?/i.test(m[2]) && isWebUrl(m[1])) return { url: m[1], fields: { url: m[1] } };
  }
  return undefined;
}

/** Parses a descriptor's JSON text; `undefined` unless it is an object with a usable `url`. */
export function descriptorFromJson(text: string): ServiceDescriptor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  if (typeof fields.url !== 'string' || !isWebUrl(fields.url)) return undefined;
  return {
    url: fields.url,
    ...(typeof fields.title === 'string' ? { title: fields.title } : {}),
    ...(typeof fields.description === 'string' ? { description: fields.description } : {}),
    fields,
  };
}

/** An absolute http(s) URL. */
export function isWebUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
