import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { routingRuleSchema } from '../../../server/config/routing-rule-config.js';
import { RuleRoutingEngine } from '../../../server/routing/rule-routing-engine.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import { buildMultipart } from '../../../sip/message/multipart.js';
import { routingRequest, partyOf } from './routing-fixtures.js';

const rules = (input: unknown[]) => z.array(routingRuleSchema).parse(input);
const engine = (input: unknown[], options: Partial<ConstructorParameters<typeof RuleRoutingEngine>[0]> = {}) =>
  new RuleRoutingEngine({ rules: rules(input), ...options });

const JSON_TYPE = 'application/vnd.siprelay.request+json';
function withBody(body: string, uri = 'sip:shop@portal.test', contentType = JSON_TYPE): SipRequest {
  return routingRequest(`INVITE ${uri} SIP/2.0\nContent-Type: ${contentType}\n\n${body}`);
}
const route = (e: RuleRoutingEngine, req: SipRequest) => e.route(req, partyOf(req));

describe('RuleRoutingEngine', () => {
  describe('construction', () => {
    it('refuses a regex that nests unbounded quantifiers, naming the rule', () => {
      expect(() => engine([{ name: 'slow', match: { requestUri: { user: { regex: '(a+)+' } } }, service: 'x' }])).toThrow(
        /slow: match\.requestUri\.user\.regex "\(a\+\)\+" nests unbounded quantifiers \(\(a\+\)\+\)/,
      );
    });

    it("keeps such a regex with a warning when regexSafety is 'warn'", () => {
      const warn = vi.fn();
      const logger = { debug() {}, info() {}, warn, error() {} };
      const e = engine([{ name: 'slow', match: { headers: { 'X-A': { regex: '(a+)+' } } }, service: 'x' }], { regexSafety: 'warn', logger });
      expect(warn).toHaveBeenCalledWith({ rule: 'slow', regex: '(a+)+', fragment: '(a+)+' }, expect.stringContaining('nests unbounded quantifiers'));
      expect(route(e, routingRequest('INVITE sip:x@portal.test SIP/2.0\nX-A: aaaa'))?.service).toBe('x');
    });

    it('throws TypeError for bad options', () => {
      expect(() => new RuleRoutingEngine({ rules: 'x' as never })).toThrow(TypeError);
      expect(() => engine([], { maxBodyBytes: 0 })).toThrow(/maxBodyBytes must be a positive integer/);
      expect(() => engine([], { regexSafety: 'maybe' as never })).toThrow(/regexSafety/);
    });

    it('names unnamed rules by their index', () => {
      const e = engine([{ match: { requestUri: { user: 'a' } }, service: 'a' }, { service: 'b' }]);
      expect(route(e, routingRequest('INVITE sip:z@portal.test SIP/2.0'))?.rule).toBe('rules[1]');
    });
  });

  describe('facts', () => {
    it('reads from.* from the authenticated party, not the From header', () => {
      const e = engine([{ match: { from: { user: 'alice', host: 'portal.test' } }, service: 'vip', facts: { who: '${from.user}@${from.host}' } }]);
      const req = routingRequest('INVITE sip:x@portal.test SIP/2.0\nFrom: <sip:alice@portal.test>;tag=1');
      expect(e.route(req, { kind: 'subscriber', id: 2, username: 'mallory', domain: 'portal.test' })).toBeUndefined();
      expect(e.route(req, { kind: 'subscriber', id: 1, username: 'alice', domain: 'Portal.Test' })).toEqual({
        service: 'vip',
        facts: { who: 'alice@portal.test' },
        rule: 'rules[0]',
      });
    });

    it('reads To user and host, unescaped and lower-cased', () => {
      const e = engine([{ match: { to: { user: 'wine shop', host: 'portal.test' } }, service: 'wine' }]);
      expect(route(e, routingRequest('INVITE sip:x@portal.test SIP/2.0\nTo: <sip:wine%20shop@PORTAL.test>'))?.service).toBe('wine');
    });

    it('reads headers by any spelling, compact forms included, first line trimmed', () => {
      const e = engine([{ match: { headers: { subject: 'wine' } }, service: 'wine', facts: { s: '${header.Subject}' } }]);
      const decision = route(e, routingRequest('INVITE sip:x@portal.test SIP/2.0\ns:   wine  \nSubject: beer'));
      expect(decision).toEqual({ service: 'wine', facts: { s: 'wine' }, rule: 'rules[0]' });
    });

    it('treats present: false as "the header is absent"', () => {
      const e = engine([{ match: { headers: { 'X-Test': { present: false } } }, service: 'plain' }, { service: 'tested' }]);
      expect(route(e, routingRequest('INVITE sip:x@portal.test SIP/2.0'))?.service).toBe('plain');
      expect(route(e, routingRequest('INVITE sip:x@portal.test SIP/2.0\nX-Test: 1'))?.service).toBe('tested');
    });

    it('compares oneOf ignoring case when asked', () => {
      const e = engine([{ match: { requestUri: { user: { oneOf: ['Wine', 'Beer'], ignoreCase: true } } }, service: 'drinks' }]);
      expect(route(e, routingRequest('INVITE sip:BEER@portal.test SIP/2.0'))?.service).toBe('drinks');
      expect(route(e, routingRequest('INVITE sip:cider@portal.test SIP/2.0'))).toBeUndefined();
    });

    it('runs a regex on a JSON number as its text, and compares equals by JSON type', () => {
      const e = engine([
        { name: 'by-regex', match: { body: { qty: { regex: '[1-9]' } } }, service: 'few', facts: { qty: '${body.qty}' } },
        { name: 'by-null', match: { body: { gift: null } }, service: 'nogift' },
        { name: 'by-bool', match: { body: { gift: true } }, service: 'gift' },
      ]);
      expect(route(e, withBody('{"qty":7}'))).toEqual({ service: 'few', facts: { qty: '7' }, rule: 'by-regex' });
      expect(route(e, withBody('{"qty":70,"gift":null}'))?.rule).toBe('by-null');
      expect(route(e, withBody('{"gift":true}'))?.rule).toBe('by-bool');
      expect(route(e, withBody('{"gift":"true"}'))).toBeUndefined();
    });

    it('counts null and objects as present, but gives them no template value', () => {
      const e = engine([{ match: { body: { a: { present: true } } }, service: 'x', facts: { a: '${body.a}', b: 'const' } }]);
      expect(route(e, withBody('{"a":null}'))).toEqual({ service: 'x', facts: { b: 'const' }, rule: 'rules[0]' });
      expect(route(e, withBody('{"a":{"b":1}}'))?.facts).toEqual({ b: 'const' });
    });

    it('leaves out a fact longer than maxFactLength', () => {
      const e = engine([{ service: 'x', facts: { h: '${header.X-Long}' } }], { maxFactLength: 8 });
      expect(route(e, routingRequest('INVITE sip:x@portal.test SIP/2.0\nX-Long: 123456789'))?.facts).toEqual({});
      expect(route(e, routingRequest('INVITE sip:x@portal.test SIP/2.0\nX-Long: 12345678'))?.facts).toEqual({ h: '12345678' });
    });

    it('reads the first JSON part of a multipart/mixed body', () => {
      const e = engine([{ service: '${body.kind}' }]);
      const mp = buildMultipart([
        { contentType: 'application/sdp', body: 'v=0\r\n' },
        { contentType: JSON_TYPE, body: '{"kind":"wine"}' },
        { contentType: JSON_TYPE, body: '{"kind":"beer"}' },
      ]);
      const req = withBody('', 'sip:x@portal.test', mp.contentType);
      req.body = mp.body;
      expect(route(e, req)?.service).toBe('wine');
    });
  });

  describe('hostile input', () => {
    const bodyRules = [{ match: { body: { kind: { present: true } } }, service: 'by-body' }, { service: 'fallback' }];

    it.each([
      ['not JSON', '{kind:'],
      ['JSON of another media type', '{"kind":"wine"}', 'application/json'],
      ['a body bigger than maxBodyBytes', JSON.stringify({ kind: 'wine', pad: 'x'.repeat(20_000) })],
      ['nesting deeper than maxBodyDepth', '{"kind":"wine","deep":' + '['.repeat(40) + ']'.repeat(40) + '}'],
      ['ten thousand open brackets', '['.repeat(10_000)],
      ['invalid UTF-8', '{"kind":"\xff"}'],
      ['a broken multipart body', '--x\r\nno end', 'multipart/mixed;boundary=x'],
      ['a multipart body without boundary', '--x--', 'multipart/mixed'],
    ])('reads %s as no body', (_what, body, type = JSON_TYPE) => {
      const e = engine(bodyRules);
      const req = withBody('', 'sip:x@portal.test', type);
      req.body = body === '{"kind":"\xff"}' ? Uint8Array.from([...Buffer.from('{"kind":"'), 0xff, ...Buffer.from('"}')]) : body;
      expect(route(e, req)?.service).toBe('fallback');
    });

    it('ignores a body with a Content-Encoding', () => {
      const req = routingRequest(`INVITE sip:x@portal.test SIP/2.0\nContent-Type: ${JSON_TYPE}\nContent-Encoding: gzip\n\n{"kind":"wine"}`);
      expect(route(engine(bodyRules), req)?.service).toBe('fallback');
    });

    it('never follows __proto__ or constructor into a prototype', () => {
      const e = engine([
        { match: { body: { '__proto__.polluted': { present: true } } }, service: 'proto' },
        { match: { body: { 'constructor.name': { present: true } } }, service: 'ctor' },
        { service: 'safe' },
      ]);
      expect(route(e, withBody('{"x":1}'))?.service).toBe('safe');
      expect(route(e, withBody('{"__proto__":{"polluted":true}}'))?.service).toBe('proto');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('does not throw on a malformed To or Request-URI (they read as absent)', () => {
      const e = engine([{ match: { to: { user: { present: false } } }, service: 'no-to-user' }]);
      const req = new SipRequest('INVITE', 'sip:bad uri', [['To', '<<not an address']]);
      expect(e.route(req, { kind: 'subscriber', id: 1, username: 'alice', domain: 'portal.test' })?.service).toBe('no-to-user');
      const e2 = engine([{ service: '${requestUri.user}' }]);
      expect(e2.route(req, { kind: 'subscriber', id: 1, username: 'alice', domain: 'portal.test' })).toBeUndefined();
    });

    it('does not route to a computed service that is not a service name', () => {
      const e = engine([{ service: '${header.X-Service}' }, { service: 'fallback' }]);
      for (const v of ['../etc', 'UPPER', 'a'.repeat(65), 'sp ace']) {
        expect(route(e, routingRequest(`INVITE sip:x@portal.test SIP/2.0\nX-Service: ${v}`))?.service).toBe('fallback');
      }
    });

    it('skips the regex of a value longer than maxRegexInputLength, so a slow pattern stays fast', () => {
      // (a|aa)*b is exponential on "aaaa…c" and is not caught by the nested-quantifier check.
      const e = engine([{ match: { headers: { 'X-A': { regex: '(?:a|aa)*b' } } }, service: 'slow' }, { service: 'fallback' }], {
        maxRegexInputLength: 24,
      });
      const started = performance.now();
      expect(route(e, routingRequest(`INVITE sip:x@portal.test SIP/2.0\nX-A: ${'a'.repeat(5000)}c`))?.service).toBe('fallback');
      expect(route(e, routingRequest('INVITE sip:x@portal.test SIP/2.0\nX-A: aaab'))?.service).toBe('slow');
      expect(performance.now() - started).toBeLessThan(1000);
    });

    it('answers undefined, not an exception, if a fact reader fails unexpectedly', () => {
      const error = vi.fn();
      const e = engine([{ match: { headers: { 'X-A': 'x' } }, service: 'x' }], { logger: { debug() {}, info() {}, warn() {}, error } });
      const req = routingRequest('INVITE sip:x@portal.test SIP/2.0');
      Object.defineProperty(req, 'header', { value: () => { throw new Error('boom'); } });
      expect(route(e, req)).toBeUndefined();
      expect(error).toHaveBeenCalledOnce();
    });
  });
});
