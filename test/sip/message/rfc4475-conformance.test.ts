import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSipParseError, type SipErrorCode, type SipParseError } from '../../../sip/errors.js';
import { parseMessage } from '../../../sip/message/parser.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import { SipUri, uriEquals, parseUri } from '../../../sip/grammar/uri.js';
import { utf8Decode } from '../../../sip/util/bytes.js';

/**
 * Every RFC 4475 torture message (fixtures copied byte-exact from the RFC's
 * archive) is a test: valid ones parse and their tricky fields are checked;
 * invalid ones raise the typed error with the code the relay maps to the
 * response the RFC asks for. See test/fixtures/rfc4475/SOURCE.md.
 */
const dir = new URL('../../fixtures/rfc4475/', import.meta.url);
const load = (name: string): Uint8Array => readFileSync(new URL(name + '.dat', dir));
const req = (name: string): SipRequest => {
  const m = parseMessage(load(name));
  if (!m.isRequest) throw new Error('expected a request');
  return m;
};
const res = (name: string): SipResponse => {
  const m = parseMessage(load(name));
  if (m.isRequest) throw new Error('expected a response');
  return m;
};
function parseFailure(name: string, options?: { datagram?: boolean }): SipParseError {
  try {
    parseMessage(load(name), options);
  } catch (e) {
    if (isSipParseError(e)) return e;
    throw e;
  }
  throw new Error(`${name} parsed but should have failed`);
}

describe('RFC 4475 §3.1.1 valid messages', () => {
  it('wsinv: unfolds headers, accepts LWS everywhere, keeps unknown headers', () => {
    const m = req('wsinv');
    expect(m.method).toBe('INVITE');
    expect(m.to.uri.toString()).toBe('sip:vivekg@chair-dnrc.example.com');
    expect(m.to.tag).toBe('1918181833n');
    expect(m.from.displayName).toBe('J Rosenberg \\"');
    expect(m.from.tag).toBe('98asjd8');
    expect(m.maxForwards).toBe(68);
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.via.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.header('subject')).toBe('');
    expect(m.header('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.header('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    const contacts = m.contacts;
    if (contacts === '*') throw new Error('unexpected *');
    expect(contacts[0].displayName).toBe('Quoted string ""');
    expect(contacts[0].params.get('newparam')).toBe('newvalue');
    expect(contacts[0].params.get('q')).toBe('0.33');
    expect(m.routes[0].uri.toString()).toBe('sip:services.example.com;lr;unknownwith=value;unknown-no-value');
    expect(m.body.length).toBe(150);
  });

  it('wsinv: forwarding writes untouched header lines back byte for byte', () => {
    const bytes = load('wsinv');
    const out = serializeMessage(parseMessage(bytes));
    expect(utf8Decode(out)).toBe(utf8Decode(bytes));
  });

  it('intmeth: accepts a method of token punctuation, raw UTF-8 and quoted control characters', () => {
    const m = req('intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    const uri = m.uri as SipUri;
    expect(uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(uri.host).toBe('example.com');
    expect(m.to.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(m.from.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.from.params.get("fromParam''~+*_!.-%")).toBe('"работающий"');
    expect(m.from.tag).toBe("_token~1'+`*%!-.");
    expect(m.callId).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(m.header("extensionHeader-!.%*+_`'~")).toBe('\uFEFF大停電');
  });

  it('esc01: keeps escapes raw, unescapes once, and compares URIs after unescaping', () => {
    const m = req('esc01');
    const uri = m.uri as SipUri;
    expect(uri.user).toBe('sips%3Auser%40example.com');
    expect(uri.userDecoded).toBe('sips:user@example.com');
    expect((m.to.uri as SipUri).userDecoded).toBe('user');
    expect((m.from.uri as SipUri).userDecoded).toBe('I have spaces');
    const contacts = m.contacts;
    if (contacts === '*') throw new Error('unexpected *');
    const contact = contacts[0].uri as SipUri;
    expect(contact.params.get('n%61me')).toBe('v%61lue%25%34%31');
    expect(uriEquals(contact, parseUri('sip:caller@host5.example.net;lr;name=value%2541'))).toBe(true);
    expect(uriEquals(contact, parseUri('sip:caller@host5.example.net;lr;name=valueA'))).toBe(false);
    expect(m.header('content-type')).toBe('application/sdp');
  });

  it('escnull: %00 does not cut the user part and two Contacts stay distinct', () => {
    const m = req('escnull');
    expect((m.to.uri as SipUri).userDecoded).toBe('null-\x00-null');
    const contacts = m.contacts;
    if (contacts === '*') throw new Error('unexpected *');
    expect(contacts.map((c) => (c.uri as SipUri).userDecoded)).toEqual(['\x00', '\x00\x00']);
    expect(uriEquals(contacts[0].uri, contacts[1].uri)).toBe(false);
  });

  it('esc02: an escaped method is an unknown method, and C%6Fntact is not Contact', () => {
    const m = req('esc02');
    expect(m.method).toBe('RE%47IST%45R');
    expect(m.method).not.toBe('REGISTER');
    const contacts = m.contacts;
    if (contacts === '*') throw new Error('unexpected *');
    expect(contacts).toHaveLength(2);
    expect(m.header('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
    expect(m.to.displayName).toBe('%Z%45');
  });

  it('lwsdisp: a display-name token directly before < is accepted', () => {
    expect(req('lwsdisp').from.displayName).toBe('caller');
  });

  it('longreq: no length limit cuts long values, and all 34 Via values parse', () => {
    const m = req('longreq');
    expect(m.via).toHaveLength(34);
    expect(m.callId.length).toBeGreaterThan(100);
    expect(m.from.tag!.length).toBeGreaterThan(100);
    expect(m.body.length).toBe(150);
  });

  it('dblreq: the REGISTER is handled and the trailing INVITE bytes are ignored', () => {
    const m = req('dblreq');
    expect(m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
    expect(utf8Decode(serializeMessage(m))).not.toContain('INVITE');
  });

  it('semiuri: the user part is user;par=u@example.net', () => {
    const uri = req('semiuri').uri as SipUri;
    expect(uri.userDecoded).toBe('user;par=u@example.net');
    expect(uri.host).toBe('example.com');
    expect(uri.params.size).toBe(0);
  });

  it('transports: unknown transports in lower Vias are fine', () => {
    expect(req('transports').via.map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  it('mpart01: frames a binary multipart body with NULs by Content-Length', () => {
    const m = req('mpart01');
    expect(m.body.length).toBe(553);
    expect(m.body.includes(0)).toBe(true);
    expect(m.contentType).toBe('multipart/mixed');
    const out = serializeMessage(m);
    expect(Buffer.from(out).equals(Buffer.from(load('mpart01')))).toBe(true);
  });

  it('unreason: a UTF-8 reason phrase is accepted as is', () => {
    const r = res('unreason');
    expect(r.status).toBe(200);
    expect(r.reason.startsWith('= 2**3 * 5**2 ')).toBe(true);
    expect(r.reason).toContain('\u043d\u043e');
  });

  it('noreason: an empty reason phrase is accepted', () => {
    const r = res('noreason');
    expect(r.status).toBe(100);
    expect(r.reason).toBe('');
  });
});

/** Messages RFC 4475 calls invalid, with the code the core must raise. */
const INVALID: Array<[file: string, code: SipErrorCode, status: number, what: string]> = [
  ['badinv01', 'SIP_ERR_HEADER_SYNTAX', 400, 'empty ; and , in Via and Contact'],
  ['clerr', 'SIP_ERR_BODY_INCOMPLETE', 400, 'Content-Length larger than the datagram'],
  ['ncl', 'SIP_ERR_CONTENT_LENGTH', 400, 'negative Content-Length'],
  ['scalar02', 'SIP_ERR_CSEQ', 400, 'CSeq above 2**32-1'],
  ['scalarlg', 'SIP_ERR_CSEQ', 400, 'response with CSeq above 2**32-1 (discarded)'],
  ['quotbal', 'SIP_ERR_HEADER_SYNTAX', 400, 'unbalanced quote in To'],
  ['ltgtruri', 'SIP_ERR_URI', 400, 'Request-URI in <>'],
  ['lwsruri', 'SIP_ERR_START_LINE', 400, 'whitespace inside the Request-URI'],
  ['badaspec', 'SIP_ERR_HEADER_SYNTAX', 400, 'spaces inside the To addr-spec'],
  ['baddn', 'SIP_ERR_UNTERMINATED_HEADERS', 400, 'no empty line after the headers'],
  ['badvers', 'SIP_ERR_VERSION', 505, 'SIP/7.0'],
  ['mismatch01', 'SIP_ERR_CSEQ_METHOD', 400, 'CSeq method differs from the method'],
  ['mismatch02', 'SIP_ERR_CSEQ_METHOD', 400, 'unknown method with CSeq INVITE (the relay answers 501)'],
  ['bigcode', 'SIP_ERR_STATUS_CODE', 0, 'status code 4294967301 (dropped)'],
  ['insuf', 'SIP_ERR_MISSING_HEADER', 400, 'no To, From or Call-ID'],
  ['multi01', 'SIP_ERR_DUPLICATE_HEADER', 400, 'two of each single-value header'],
  ['mcl01', 'SIP_ERR_CONTENT_LENGTH', 400, 'two different Content-Length values'],
  ['test', 'SIP_ERR_START_LINE', 400, 'request line without version'],
];

describe('RFC 4475 invalid messages', () => {
  it.each(INVALID)('%s → %s (%i): %s', (file, code, status) => {
    const e = parseFailure(file);
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
  });

  it('badvers keeps the parsed headers on the error so that 505 can be built', () => {
    const e = parseFailure('badvers');
    const partial = e.partial as SipRequest;
    expect(partial.method).toBe('OPTIONS');
    expect(partial.callId).toBe('badvers.31417@c.example.com');
  });

  it('lwsruri keeps method and headers on the error so that 400 can be built', () => {
    const e = parseFailure('lwsruri');
    const partial = e.partial as SipRequest;
    expect(partial.method).toBe('INVITE');
    expect(partial.callId).toBe('lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423');
    expect(partial.cseq.seq).toBe(2130706432);
  });

  it('baddn with the missing blank line added still fails on the comma in the display name', () => {
    const bytes = Buffer.concat([Buffer.from(load('baddn')), Buffer.from('\r\n')]);
    try {
      parseMessage(bytes);
      throw new Error('parsed');
    } catch (e) {
      expect(isSipParseError(e) && e.code).toBe('SIP_ERR_HEADER_SYNTAX');
    }
  });

  it('clerr, ncl and mcl01 are framing errors on a stream transport', () => {
    expect(parseFailure('ncl', { datagram: false }).code).toBe('SIP_ERR_CONTENT_LENGTH');
    expect(parseFailure('mcl01', { datagram: false }).code).toBe('SIP_ERR_CONTENT_LENGTH');
    expect(parseFailure('clerr', { datagram: false }).code).toBe('SIP_ERR_BODY_INCOMPLETE');
  });
});

describe('RFC 4475 messages that parse but need handling above the parser', () => {
  it('lwsstart: runs of spaces in the request line are accepted and written back single', () => {
    const m = req('lwsstart');
    expect(m.method).toBe('INVITE');
    expect(m.startLine()).toBe('INVITE sip:user@example.com SIP/2.0');
  });

  it('trws: trailing spaces after SIP/2.0 are accepted and stripped', () => {
    expect(req('trws').startLine()).toBe('OPTIONS sip:remote-target@example.com SIP/2.0');
  });

  it('escruri: URI headers in the Request-URI parse so the relay can refuse them', () => {
    const uri = req('escruri').uri as SipUri;
    expect(uri.headers.map(([n]) => n)).toEqual(['Route']);
  });

  it('baddate: a Date in EST is ignored by the parser', () => {
    expect(req('baddate').header('date')).toContain('EST');
  });

  it('badbranch: the bare magic cookie is not an RFC 3261 branch', () => {
    const v = req('badbranch').topVia;
    expect(v.branch).toBe('z9hG4bK');
    expect(v.hasRfc3261Branch).toBe(false);
  });

  it('unkscm: an unknown Request-URI scheme parses as an absolute URI', () => {
    const uri = req('unkscm').uri;
    expect(uri.kind).toBe('absolute');
    expect(uri.scheme).toBe('nobodyKnowsThisScheme');
  });

  it('novelsc: soap.beep parses as an absolute URI', () => {
    expect(req('novelsc').uri.scheme).toBe('soap.beep');
  });

  it('unksm2: To, From and Contact with non-SIP schemes parse', () => {
    const m = req('unksm2');
    expect(m.to.uri.scheme).toBe('isbn');
    expect(m.from.uri.scheme).toBe('http');
    const contacts = m.contacts;
    if (contacts === '*') throw new Error('unexpected *');
    expect(contacts[0].uri.scheme).toBe('name');
  });

  it('bext01: Require and Proxy-Require option tags are readable', () => {
    const m = req('bext01');
    expect(m.optionTags('require')).toEqual(['nothingsupportsthis', 'nothingsupportsthiseither']);
    expect(m.optionTags('proxy-require')).toEqual(['noproxiessupportthis', 'nordoanyproxiessupportthis']);
  });

  it('invut: an unknown body type is kept', () => {
    expect(req('invut').contentType).toBe('application/unknownformat');
  });

  it('regaut01: an Authorization header of an unknown scheme parses', () => {
    expect(req('regaut01').header('authorization')).toBe('NoOneKnowsThisScheme opaque-data=here');
  });

  it('bcast: a response with a broadcast sent-by parses', () => {
    expect(res('bcast').via[1].host).toBe('255.255.255.255');
  });

  it('zeromf: Max-Forwards 0 parses as 0', () => {
    expect(req('zeromf').maxForwards).toBe(0);
  });

  it('cparam01: a parameter after an addr-spec Contact is a header parameter', () => {
    const contacts = req('cparam01').contacts;
    if (contacts === '*') throw new Error('unexpected *');
    expect(contacts[0].params.has('unknownparam')).toBe(true);
    expect((contacts[0].uri as SipUri).params.has('unknownparam')).toBe(false);
  });

  it('cparam02: a parameter inside <> stays a URI parameter', () => {
    const contacts = req('cparam02').contacts;
    if (contacts === '*') throw new Error('unexpected *');
    expect((contacts[0].uri as SipUri).params.has('unknownparam')).toBe(true);
  });

  it('regescrt: an escaped Route stays in the Contact URI headers', () => {
    const contacts = req('regescrt').contacts;
    if (contacts === '*') throw new Error('unexpected *');
    expect((contacts[0].uri as SipUri).headers[0][0]).toBe('Route');
  });

  it('regbadct: a Contact with ? but no <> is refused when the registrar reads it', () => {
    const m = req('regbadct');
    expect(() => m.contacts).toThrow(expect.objectContaining({ code: 'SIP_ERR_HEADER_SYNTAX', status: 400 }));
  });

  it('sdp01: the Accept header is readable', () => {
    expect(req('sdp01').header('accept')).toBe('text/nobodyKnowsThis');
  });

  it('inv2543: an RFC 2543 request parses over UDP, its body being the rest of the datagram', () => {
    const m = req('inv2543');
    expect(m.topVia.branch).toBeUndefined();
    expect(m.from.tag).toBeUndefined();
    expect(m.maxForwards).toBeUndefined();
    expect(m.body.length).toBeGreaterThan(0);
    expect(parseFailure('inv2543', { datagram: false }).code).toBe('SIP_ERR_CONTENT_LENGTH');
  });
});
