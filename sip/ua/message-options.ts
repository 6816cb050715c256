import type { BodyPartInit } from '../message/multipart.js';
import { buildMultipart } from '../message/multipart.js';
import type { BodyInit, HeaderInit, SipMessage } from '../message/sip-message.js';

/**
 * A body to send: bytes or text with its Content-Type, or the parts of a
 * `multipart/mixed` body (RFC 2046 §5.1.3; e.g. SDP beside the siprelay
 * JSON), which the core assembles with a fresh boundary. Give one form.
 */
export interface BodyOptions {
  body?: BodyInit;
  /** Content-Type of `body` (`application/vnd.siprelay.request+json`...). Required with `body`. */
  contentType?: string;
  /** Parts of a `multipart/mixed` body; replaces `body` and `contentType`. */
  multipart?: readonly BodyPartInit[];
}

/** What an application adds to a request the core builds. */
export interface RequestOptions extends BodyOptions {
  /** Extra header lines, appended after the ones the core writes. */
  headers?: HeaderInit;
}

/** What an application puts in a response the core builds. */
export interface ResponseOptions extends BodyOptions {
  /** Reason phrase; default the RFC's for the status. */
  reason?: string;
  headers?: HeaderInit;
}

/**
 * Checks `options` and writes its body and Content-Type into `message`.
 * Misuse (a body without Content-Type, both forms at once) throws TypeError.
 */
export function applyBody(message: SipMessage, options: BodyOptions | undefined): void {
  if (!options) return;
  const { body, contentType, multipart } = options;
  if (multipart !== undefined) {
    if (body !== undefined) throw new TypeError('give either body or multipart, not both');
    if (!Array.isArray(multipart) || multipart.length === 0) throw new TypeError('multipart needs at least one part');
    const built = buildMultipart([...multipart]);
    message.body = built.body;
    message.setHeader('Content-Type', built.contentType);
    return;
  }
  if (body === undefined) return;
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) throw new TypeError('body must be a string or a Uint8Array');
  if (body.length > 0 && (typeof contentType !== 'string' || contentType.length === 0)) {
    throw new TypeError('a body needs its contentType');
  }
  message.body = body;
  if (contentType) message.setHeader('Content-Type', contentType);
}

/** Appends `headers` to `message`. */
export function applyHeaders(message: SipMessage, headers: HeaderInit | undefined): void {
  if (!headers) return;
  for (const [name, value] of headers) message.addHeader(name, value);
}
