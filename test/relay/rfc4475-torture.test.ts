/**
 * Every RFC 4475 torture message, byte for byte, as one UDP datagram to the
 * running relay (issue 3, item 9). Each gets the answer the table below
 * names — the README of the test data (`test/fixtures/rfc4475/`, from
 * `../shared/testdata/rfc4475/`) says what a proxy must do; the table says
 * how this relay does it — and after each one the relay still answers a
 * keep-alive OPTIONS.
 *
 * The relay serves `example.com`, the domain most messages are addressed
 * to, besides `portal.test`: REGISTERs then reach its registrar, which
 * challenges (401) like any registrar that authenticates (README,
 * regaut01); requests for other domains are challenged as a proxy (407).
 * A well-formed request is "processed normally": for a relay that
 * authenticates everything, that is the challenge. Nothing is forwarded,
 * since no message carries credentials.
 *
 * Responses go where RFC 3261 §18.2.2 says: the `received` address (the
 * source, 127.0.0.2 here) at the Via's sent-by port, 5060 unless the
 * message names another (quotbal: 5050) or has `rport` (mpart01). So the
 * test sends from 127.0.0.2:5060 and also listens on 127.0.0.2:5050: the
 * messages stay exactly as published.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../support/test-relay.js';

const FIXTURES = new URL('../fixtures/rfc4475/', import.meta.url);

/** `status`: the answer; 0: silence (a response, or what cannot be answered). */
const EXPECTED: Array<[file: string, status: number, why: string]> = [
  // 3.1.1 valid: parsed and processed normally (challenged; nothing is forwarded without credentials)
  ['wsinv', 403, 'well-formed; an in-dialog INVITE (To tag) the relay never record-routed: 403, as docs/proxy.md says'],
  ['intmeth', 501, 'well-formed unknown method: the relay forwards no method it does not know (501 with Allow)'],
  ['esc01', 407, 'well-formed; for example.net, another domain: proxy challenge'],
  ['escnull', 401, 'well-formed REGISTER: the registrar challenges'],
  ['esc02', 501, 'the method is RE%47IST%45R, not REGISTER: unknown, 501'],
  ['lwsdisp', 401, 'accepted (display name without space before <)'],
  ['longreq', 401, 'well-formed; no length limit cuts it'],
  ['dblreq', 401, 'the REGISTER is handled; the INVITE after it in the datagram is ignored'],
  ['semiuri', 401, 'accepted'],
  ['transports', 401, 'unknown transports in lower Vias are fine'],
  ['mpart01', 407, 'binary multipart body framed by Content-Length; for example.org: proxy challenge'],
  ['unreason', 0, 'a response without a transaction: parsed and dropped'],
  ['noreason', 0, 'a response without a transaction: parsed and dropped'],
  // 3.1.2 invalid
  ['badinv01', 400, 'empty ; and , in Via and Contact'],
  ['clerr', 400, 'Content-Length larger than the datagram'],
  ['ncl', 400, 'negative Content-Length'],
  ['scalar02', 400, 'CSeq above 2^32-1'],
  ['scalarlg', 0, 'a response with CSeq above 2^32-1: discarded'],
  ['quotbal', 400, 'unbalanced quote in To'],
  ['ltgtruri', 400, 'Request-URI in <>'],
  ['lwsruri', 400, 'whitespace inside the Request-URI'],
  ['lwsstart', 401, 'liberal: runs of spaces in the Request-Line accepted'],
  ['trws', 401, 'liberal: trailing spaces after SIP/2.0 accepted'],
  ['escruri', 400, 'escaped headers in the Request-URI: refused, never turned into headers'],
  ['baddate', 401, 'a Date in EST: ignored by a proxy'],
  ['regbadct', 401, 'the REGISTER is challenged before its Contact is read'],
  ['badaspec', 400, 'spaces inside the To addr-spec'],
  ['baddn', 0, 'no blank line after the headers: dropped (unterminated)'],
  ['badvers', 505, 'SIP/7.0'],
  ['mismatch01', 400, 'OPTIONS with CSeq method INVITE'],
  ['mismatch02', 501, 'unknown method with CSeq INVITE: 501, preferred at proxies'],
  ['bigcode', 0, 'status code 4294967301: dropped silently'],
  // 3.2 transaction layer
  ['badbranch', 401, 'branch is the bare magic cookie: matched the RFC 2543 way, processed'],
  // 3.3 application layer
  ['insuf', 0, 'no To, From or Call-ID: no 400 can be built, dropped (the README allows: must not crash)'],
  ['unkscm', 416, 'Request-URI scheme nobodyKnowsThisScheme'],
  ['novelsc', 416, 'Request-URI scheme soap.beep'],
  ['unksm2', 401, 'the registrar challenges before it reads the isbn: To (400 would follow authentication)'],
  ['bext01', 420, 'Proxy-Require tags the relay does not support'],
  ['invut', 401, 'unknown body type: a proxy does not care'],
  ['regaut01', 401, 'unknown Authorization scheme: a registrar that authenticates sends a fresh challenge'],
  ['multi01', 400, 'two of each single-value header'],
  ['mcl01', 400, 'two different Content-Length values'],
  ['bcast', 0, 'a response whose second Via is a broadcast address: dropped, never sent anywhere'],
  ['zeromf', 483, 'Max-Forwards 0 for someone else'],
  ['cparam01', 401, 'REGISTER: the registrar challenges'],
  ['cparam02', 401, 'REGISTER: the registrar challenges'],
  ['regescrt', 401, 'REGISTER: the registrar challenges'],
  ['sdp01', 401, 'Accept a UAS cannot satisfy: a proxy forwards (here: challenges)'],
  // 3.4 backward compatibility
  ['inv2543', 401, 'RFC 2543 INVITE: no branch, no From tag, no Content-Length, no Max-Forwards'],
  // in the archive, in no section
  ['test', 0, 'no SIP-Version and no Via: malformed, nowhere to answer'],
];

/** The header block of a torture message (before the first empty line). */
function headerBlock(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  return end < 0 ? text : text.slice(0, end);
}

/** First value of a header (full or compact name) in a header block, folding ignored. */
function headerValue(block: string, names: string[]): string | undefined {
  for (const line of block.split(/\r?\n/)) {
    const m = /^([^:\s]+)[ \t]*:[ \t]*(.*)$/.exec(line);
    if (m && names.includes(m[1].toLowerCase())) return m[2].trim();
  }
  return undefined;
}

/** What identifies the transaction a message starts (RFC 3261 §17.2.3): branch, sent-by and CSeq method (else the Call-ID). */
function transactionKey(block: string): string {
  const via = headerValue(block, ['via', 'v']) ?? '';
  const branch = /branch=([^;,\s]+)/i.exec(via)?.[1];
  const sentBy = /^\S+\s*\/\s*\S+\s*\/\s*\S+\s+([^;,\s]+)/.exec(via)?.[1];
  const method = (headerValue(block, ['cseq']) ?? '').split(/\s+/)[1] ?? '';
  return `${branch ?? headerValue(block, ['call-id', 'i'])} ${sentBy} ${method}`;
}

/**
 * A response as received. Read as text: a 400 carries the malformed header
 * it complains about (badinv01's Via, quotbal's To), so it would not parse.
 */
interface Received {
  status: number;
  startLine: string;
  header(name: string): string | undefined;
  at: number;
}

function receivedResponse(data: Buffer): Received | undefined {
  const block = headerBlock(data);
  const startLine = block.split(/\r?\n/, 1)[0];
  const m = /^SIP\/2\.0 (\d{3}) /.exec(startLine);
  if (!m) return undefined;
  // Header lines are copied from the request as written, compact forms included.
  const compact: Record<string, string> = { 'call-id': 'i', via: 'v', to: 't', from: 'f' };
  const header = (name: string) => headerValue(block, [name.toLowerCase(), compact[name.toLowerCase()] ?? name.toLowerCase()]);
  return { status: Number(m[1]), startLine, header, at: Date.now() };
}

describe('RFC 4475 torture messages against the running relay (UDP)', () => {
  let t: TestRelay;
  let sender: Socket;
  let other: Socket;
  const inbox: Received[] = [];
  /** When each transaction key was last used: the relay keeps a server transaction 64·T1 after its final response. */
  const lastUse = new Map<string, number>();
  const T1_MS = 20;

  beforeAll(async () => {
    // T1 of 20 ms: transactions end 64·T1 = 1.28 s after their final response, so messages that share a
    // branch (cparam01/cparam02, escnull/regescrt, novelsc/unkscm) are each judged on their own.
    t = await startTestRelay({
      config: {
        domains: ['portal.test', 'example.com'],
        timers: { t1Ms: T1_MS, t2Ms: 4000 },
        services: [{ name: 'user' }],
      },
    });
    const bind = async (port: number) => {
      const s = createSocket('udp4');
      s.on('message', (data) => {
        const r = receivedResponse(data);
        if (r) inbox.push(r);
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, '127.0.0.2', () => resolve());
      });
      return s;
    };
    sender = await bind(5060);
    other = await bind(5050);
  });

  afterAll(async () => {
    sender?.close();
    other?.close();
    await t?.stop();
  });

  it('has a row for every message of the test data', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.dat')).map((f) => f.slice(0, -4)).sort();
    expect(EXPECTED.map(([f]) => f).sort()).toEqual(files);
  });

  it.each(EXPECTED)('%s → %i (%s), and the relay answers OPTIONS afterwards', async (file, expected) => {
    const bytes = readFileSync(new URL(`${file}.dat`, FIXTURES));
    const block = headerBlock(bytes);
    const callId = headerValue(block, ['call-id', 'i']);
    const via = headerValue(block, ['via', 'v']);
    const branch = via && /branch=([^;,\s]+)/i.exec(via)?.[1];
    const key = transactionKey(block);
    const wait = (lastUse.get(key) ?? 0) + 64 * T1_MS + 200 - Date.now();
    if (wait > 0) await sleep(wait);
    lastUse.set(key, Date.now());

    const start = Date.now();
    const mine = () =>
      inbox.filter(
        (r) =>
          r.at >= start &&
          (callId !== undefined ? r.header('call-id') === callId : branch !== undefined && (r.header('via') ?? '').includes(`branch=${branch}`)),
      );
    sender.send(bytes, t.udp.port, t.udp.host);
    if (expected === 0) {
      await sleep(400);
      expect(mine().map((r) => r.status)).toEqual([]);
    } else {
      await until(() => mine().length > 0, 1500);
      const statuses = [...new Set(mine().map((r) => r.status))];
      expect(statuses).toEqual([expected]);
      const answer = mine()[0];
      if (expected === 501) expect(answer.header('allow')).toMatch(/INVITE/);
      // Option tags are tokens, compared case-insensitively (RFC 3261 §7.3.1).
      if (expected === 420) expect(answer.header('unsupported')?.toLowerCase()).toBe('noproxiessupportthis, nordoanyproxiessupportthis');
      if (expected === 401) expect(answer.header('www-authenticate')).toMatch(/^Digest realm="example\.com"/);
      if (expected === 407) expect(answer.header('proxy-authenticate')).toMatch(/^Digest /);
    }
    if (file === 'dblreq') {
      // The INVITE after the REGISTER in the same datagram is never taken as a request.
      expect(inbox.filter((r) => r.header('call-id') === 'dblreq.0ha0isnda977644900765@192.0.2.15')).toEqual([]);
    }
    expect(await keepAlive(t)).toBe(200);
  });
});

/** A keep-alive OPTIONS to the relay itself from a fresh socket: the status of its answer, or 0. */
async function keepAlive(t: TestRelay): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  const id = Math.random().toString(36).slice(2);
  const request =
    `OPTIONS sip:${t.udp.host}:${t.udp.port} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKka${id};rport\r\n` +
    `From: <sip:probe@portal.test>;tag=${id}\r\nTo: <sip:${t.udp.host}:${t.udp.port}>\r\n` +
    `Call-ID: ka-${id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
  try {
    return await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(0), 2000);
      s.on('message', (data) => {
        const r = receivedResponse(data);
        if (r && r.status >= 200) {
          clearTimeout(timer);
          resolve(r.status);
        }
      });
      s.send(request, t.udp.port, t.udp.host);
    });
  } finally {
    s.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(10);
}
