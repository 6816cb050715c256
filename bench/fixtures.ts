/**
 * The "typical" messages the benchmarks use: an INVITE as a browser sends it
 * through the relay to an application server (after the relay added its Via
 * and Record-Route) with a JSON service request, and the 200 that answers it.
 */
export const TYPICAL_INVITE = [
  'INVITE sip:wine@portal.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-524287-1---d8754z-;rport',
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;received=192.0.2.15;rport=53461;branch=z9hG4bKnashds7',
  'Max-Forwards: 69',
  'Record-Route: <sip:127.0.0.1:5060;transport=udp;lr>',
  'Record-Route: <sip:127.0.0.1:8080;transport=ws;lr>',
  'To: <sip:wine@portal.test>',
  'From: "Alice" <sip:alice@portal.test>;tag=9fxced76sl',
  'Call-ID: 3848276298220188511@df7jal23ls0d.invalid',
  'CSeq: 2 INVITE',
  'Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws;ob>',
  'Allow: INVITE, ACK, CANCEL, BYE, INFO, UPDATE, REFER, NOTIFY, OPTIONS',
  'Supported: timer, replaces, tdialog, outbound',
  'Session-Expires: 1800',
  'Accept: application/vnd.siprelay.service+json, application/vnd.siprelay.charge+json',
  'P-Asserted-Identity: "Alice" <sip:alice@portal.test>',
  'Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000',
  'User-Agent: siprelay-portal/0.1',
  'Content-Type: application/vnd.siprelay.request+json',
  'Content-Length: 37',
  '',
  '{"service":"wine","category":"red"}\r\n',
].join('\r\n');

export const TYPICAL_200 = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-524287-1---d8754z-;rport=5060',
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;received=192.0.2.15;rport=53461;branch=z9hG4bKnashds7',
  'Record-Route: <sip:127.0.0.1:5060;transport=udp;lr>',
  'Record-Route: <sip:127.0.0.1:8080;transport=ws;lr>',
  'To: <sip:wine@portal.test>;tag=8321234356',
  'From: "Alice" <sip:alice@portal.test>;tag=9fxced76sl',
  'Call-ID: 3848276298220188511@df7jal23ls0d.invalid',
  'CSeq: 2 INVITE',
  'Contact: <sip:wine@127.0.0.1:5090>',
  'Session-Expires: 1800;refresher=uac',
  'Require: timer',
  'Content-Type: application/vnd.siprelay.service+json',
  'Content-Length: 45',
  '',
  '{"url":"http://localhost:8091/wine?s=ab3031"}',
].join('\r\n');
