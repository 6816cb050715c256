import { describe, expect, it } from 'vitest';
import { createResponse } from '../../../sip/message/create-response.js';
import { parseMessage } from '../../../sip/message/parser.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import { SipResponse } from '../../../sip/message/sip-response.js';
import { utf8Decode } from '../../../sip/util/bytes.js';
import { Via } from '../../../sip/grammar/via.js';

const INVITE = [
  'INVITE sip:wine@portal.test SIP/2.0',
  'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;rport',
  'v: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKold,SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKolder',
  'Max-Forwards: 70',
  'To: <sip:wine@portal.test>',
  'From: "Alice" <sip:alice@portal.test>;tag=9fxced76sl',
  'Call-ID: 3848276298220188511@atlanta.example.com',
  'CSeq: 1 INVITE',
  'Route: <sip:relay.portal.test;lr>, <sip:other.example;lr>',
  'X-Unknown:   kept   as is  ',
  'Content-Type: application/vnd.siprelay.request+json',
  'Content-Length: 17',
  '',
  '{"category":"red"}',
].join('\r\n');

const parse = (s: string) => parseMessage(s) as SipRequest;

describe('SIP message header access', () => {
  it('reads headers by any spelling, compact or full, and keeps wire order', () => {
    const m = parse(INVITE);
    expect(m.header('VIA')).toBe('SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;rport');
    expect(m.headerLines('via')).toHaveLength(2);
    expect(m.headerList('Via')).toHaveLength(3);
    expect(m.via.map((v) => v.branch)).toEqual(['z9hG4bKnashds7', 'z9hG4bKold', 'z9hG4bKolder']);
    expect(m.header('x-unknown')).toBe('kept   as is');
    expect(m.contentType).toBe('application/vnd.siprelay.request+json');
  });

  it('frames the body by Content-Length and ignores extra datagram bytes', () => {
    const m = parse(INVITE);
    expect(m.bodyText).toBe('{"category":"red"');
  });

  it('pops the top Route value without rewriting the others', () => {
    const m = parse(INVITE);
    m.replaceFirstListElement('route', undefined);
    expect(m.routes.map((r) => r.uri.toString())).toEqual(['sip:other.example;lr']);
    m.replaceFirstListElement('route', undefined);
    expect(m.hasHeader('route')).toBe(false);
  });

  it('prepends a Via above the others and invalidates the parsed list', () => {
    const m = parse(INVITE);
    expect(m.via).toHaveLength(3);
    m.prependHeader('Via', new Via('UDP', '127.0.0.1', 5060).toString() + ';branch=z9hG4bKnew');
    expect(m.via).toHaveLength(4);
    expect(m.topVia.branch).toBe('z9hG4bKnew');
    expect(m.headers[0].key).toBe('via');
  });

  it('commits a changed top Via (received, rport) into the first line only', () => {
    const m = parse(INVITE);
    m.topVia.params.set('received', '192.0.2.7');
    m.topVia.params.set('rport', '40000');
    m.commitTopVia();
    expect(m.header('via')).toBe('SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;rport=40000;received=192.0.2.7');
    expect(m.headerLines('via')[1]).toBe('SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKold,SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKolder');
  });

  it('sets, adds and removes headers', () => {
    const m = parse(INVITE);
    m.setHeader('Max-Forwards', '69');
    expect(m.maxForwards).toBe(69);
    m.addHeader('p-asserted-identity', '<sip:alice@portal.test>');
    expect(m.header('P-Asserted-Identity')).toBe('<sip:alice@portal.test>');
    expect(m.headers[m.headers.length - 1].name).toBe('P-Asserted-Identity');
    expect(m.removeHeader('x-unknown')).toBe(1);
    expect(m.hasHeader('x-unknown')).toBe(false);
  });
});

describe('serialisation', () => {
  it('writes untouched lines exactly, compact names included, and fixes Content-Length', () => {
    const m = parse(INVITE);
    const out = utf8Decode(serializeMessage(m));
    expect(out).toContain('\r\nv: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKold,SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKolder\r\n');
    expect(out).toContain('\r\nX-Unknown:   kept   as is  \r\n');
    expect(out.endsWith('Content-Length: 17\r\n\r\n{"category":"red"')).toBe(true);
    m.body = '{"category":"white"}';
    expect(utf8Decode(serializeMessage(m))).toContain('Content-Length: 20\r\n\r\n{"category":"white"}');
  });

  it('adds Content-Length when the message had none', () => {
    const r = new SipResponse(200, undefined, [['Call-ID', 'x']]);
    expect(r.toString()).toBe('SIP/2.0 200 OK\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n');
  });

  it('round-trips a built request through the parser', () => {
    const r = new SipRequest('OPTIONS', 'sip:portal.test', [
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK77'],
      ['From', '<sip:probe@portal.test>;tag=1'],
      ['To', '<sip:portal.test>'],
      ['Call-ID', 'abc@127.0.0.1'],
      ['CSeq', '7 OPTIONS'],
      ['Max-Forwards', '70'],
    ]);
    const back = parseMessage(serializeMessage(r)) as SipRequest;
    expect(back.method).toBe('OPTIONS');
    expect(back.cseq.seq).toBe(7);
    expect(back.to.uri.toString()).toBe('sip:portal.test');
  });

  it('keeps UTF-8 header values and reason phrases byte-exact', () => {
    const r = new SipResponse(486, 'Besetzt – später', [['Subject', 'Grüße']]);
    const back = parseMessage(serializeMessage(r), { validate: false }) as SipResponse;
    expect(back.reason).toBe('Besetzt – später');
    expect(back.header('subject')).toBe('Grüße');
  });
});

describe('createResponse (§8.2.6.2)', () => {
  it('copies Via, From, Call-ID, CSeq and To, and adds a To tag', () => {
    const req = parse(INVITE);
    const res = createResponse(req, 486, { toTag: 'as83kd9' });
    expect(res.status).toBe(486);
    expect(res.reason).toBe('Busy Here');
    expect(res.via).toHaveLength(3);
    expect(res.from.tag).toBe('9fxced76sl');
    expect(res.to.tag).toBe('as83kd9');
    expect(res.callId).toBe(req.callId);
    expect(res.cseq).toEqual({ seq: 1, method: 'INVITE' });
    expect(res.hasHeader('route')).toBe(false);
    expect(res.hasHeader('max-forwards')).toBe(false);
  });

  it('adds no To tag to 100 Trying and echoes Timestamp', () => {
    const req = parse(INVITE.replace('Max-Forwards: 70', 'Max-Forwards: 70\r\nTimestamp: 54'));
    const res = createResponse(req, 100, { toTag: 'x' });
    expect(res.to.tag).toBeUndefined();
    expect(res.header('timestamp')).toBe('54');
  });

  it('keeps an existing To tag', () => {
    const req = parse(INVITE.replace('To: <sip:wine@portal.test>', 'To: <sip:wine@portal.test>;tag=old'));
    expect(createResponse(req, 200, { toTag: 'new' }).to.tag).toBe('old');
  });
});
