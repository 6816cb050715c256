import { buildMultipart } from '../../../../sip/message/multipart.js';
import { parseMessage } from '../../../../sip/message/parser.js';
import type { SipRequest } from '../../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../../sip/message/sip-response.js';
import { utf8Decode } from '../../../../sip/util/bytes.js';

/** A response to an INVITE as the portal would receive it, with extra header lines and a body. */
export function response(status: number, reason: string, headers: string[] = [], body = ''): SipResponse {
  const text =
    `SIP/2.0 ${status} ${reason}\r\n` +
    'Via: SIP/2.0/WS abc.invalid;branch=z9hG4bK1\r\n' +
    'From: <sip:alice@portal.test>;tag=a\r\nTo: <sip:wine@portal.test>;tag=b\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n' +
    headers.map((h) => h + '\r\n').join('') +
    `Content-Length: ${new TextEncoder().encode(body).length}\r\n\r\n` +
    body;
  return parseMessage(text) as SipResponse;
}

/** A BYE with extra header lines. */
export function bye(headers: string[] = []): SipRequest {
  const text =
    'BYE sip:k3j2@x.invalid;transport=ws SIP/2.0\r\n' +
    'Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK2\r\nMax-Forwards: 70\r\n' +
    'From: <sip:wine@portal.test>;tag=b\r\nTo: <sip:alice@portal.test>;tag=a\r\nCall-ID: c1\r\nCSeq: 2 BYE\r\n' +
    headers.map((h) => h + '\r\n').join('') +
    'Content-Length: 0\r\n\r\n';
  return parseMessage(text) as SipRequest;
}

/** A 200 whose body is multipart/mixed of SDP and the JSON descriptor (docs/sdk.md). */
export function multipartResponse(json: string): SipResponse {
  const built = buildMultipart([
    { contentType: 'application/sdp', body: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n' },
    { contentType: 'application/vnd.siprelay.service+json', body: json },
  ]);
  return response(200, 'OK', [`Content-Type: ${built.contentType}`], utf8Decode(built.body));
}
