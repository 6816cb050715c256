import type { HeaderInit } from '../sip/message/sip-message.js';
import type { ResponseOptions } from '../sip/ua/message-options.js';
import { decliningSdpAnswer } from './sdp-answer.js';
import { SiprelayMediaTypes, type SiprelayBody } from './siprelay-media-types.js';

/**
 * The application server's answer to "which service, where?": the body of
 * its 2xx (`application/vnd.siprelay.service+json`). `url` is required, an
 * absolute http(s) URL the browser opens; anything else is shown by the
 * portal as the app wishes.
 *
 * @example
 * ```ts
 * res.accept({ url: `https://wine.example/?token=${req.token}`, title: 'The Wine Cellar', description: '12 reds in stock' });
 * ```
 */
export interface ServiceDescriptor {
  url: string;
  title?: string;
  description?: string;
  [field: string]: unknown;
}

/**
 * What to answer a client that sent SDP (a WebRTC user agent such as JsSIP,
 * which requires an SDP answer in the 2xx):
 *
 * - `auto` (default): an offer inside `multipart/mixed` is answered the
 *   same way (SDP answer beside the JSON descriptor); an offer that is the
 *   whole body (JsSIP) gets an SDP answer as the whole body, with the URL in
 *   `Call-Info` (RFC 3261 §20.9).
 * - `multipart`: always SDP answer and JSON descriptor in `multipart/mixed`, plus `Call-Info`.
 * - `call-info`: always the SDP answer alone, the URL in `Call-Info`.
 * - `none`: ignore SDP; answer with the JSON descriptor only.
 *
 * Without SDP in the request the answer is always the JSON descriptor alone.
 *
 * @example
 * ```ts
 * createAppServer({ ...options, sdpAnswer: 'call-info' });
 * ```
 */
export type SdpAnswerMode = 'auto' | 'multipart' | 'call-info' | 'none';

/**
 * Checks a descriptor given by the application; TypeError naming what is wrong.
 *
 * @example
 * ```ts
 * checkServiceDescriptor({ url: 'https://wine.example/' }); // ok
 * checkServiceDescriptor({ url: '/relative' });             // TypeError
 * ```
 */
export function checkServiceDescriptor(descriptor: ServiceDescriptor): void {
  if (descriptor === null || typeof descriptor !== 'object' || Array.isArray(descriptor)) throw new TypeError('the service descriptor must be an object with a url');
  if (typeof descriptor.url !== 'string') throw new TypeError('the service descriptor needs a url');
  let url: URL;
  try {
    url = new URL(descriptor.url);
  } catch {
    throw new TypeError(`the service descriptor's url must be absolute, got ${JSON.stringify(descriptor.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('the service descriptor\'s url must be http: or https:');
  if (descriptor.title !== undefined && typeof descriptor.title !== 'string') throw new TypeError('the service descriptor\'s title must be a string');
  if (descriptor.description !== undefined && typeof descriptor.description !== 'string') throw new TypeError('the service descriptor\'s description must be a string');
}

/**
 * The body and headers of a 2xx carrying `descriptor`, shaped by what the
 * request offered (see {@link SdpAnswerMode}).
 *
 * @example
 * ```ts
 * const answer = buildServiceAnswer({ url }, readSiprelayBody(invite.request, SiprelayMediaTypes.request), 'auto');
 * invite.accept(answer);
 * ```
 */
export function buildServiceAnswer(descriptor: ServiceDescriptor, offer: SiprelayBody, mode: SdpAnswerMode, extraHeaders?: HeaderInit): ResponseOptions {
  const json = JSON.stringify(descriptor);
  const headers: Array<readonly [string, string]> = [...(extraHeaders ?? [])];
  const sdp = mode === 'none' || offer.sdp === undefined ? undefined : decliningSdpAnswer(offer.sdp);
  if (sdp === undefined) return { body: json, contentType: SiprelayMediaTypes.service, headers };
  // RFC 3261 §20.9: Call-Info names a resource about the caller or callee; here the service page.
  headers.push(['Call-Info', `<${descriptor.url}>;purpose=info`]);
  const multipart = mode === 'multipart' || (mode === 'auto' && offer.multipart);
  if (multipart) {
    return {
      multipart: [
        { contentType: SiprelayMediaTypes.sdp, body: sdp },
        { contentType: SiprelayMediaTypes.service, body: json },
      ],
      headers,
    };
  }
  return { body: sdp, contentType: SiprelayMediaTypes.sdp, headers };
}
