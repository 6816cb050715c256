/**
 * Messages per second on one core for parsing and serialising a typical
 * INVITE and a typical 200 (bench/fixtures.ts).
 *   npm run bench:parser
 * Each figure is the median of 7 rounds of ~1 s after a warm-up.
 */
import { parseMessage } from '../sip/message/parser.js';
import { serializeMessage } from '../sip/message/serializer.js';
import type { SipRequest } from '../sip/message/sip-request.js';
import { TYPICAL_200, TYPICAL_INVITE } from './fixtures.js';

function measure(name: string, fn: () => void): number {
  for (let i = 0; i < 50_000; i++) fn(); // warm-up for the JIT
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < 1000) {
      for (let i = 0; i < 1000; i++) fn();
      n += 1000;
      t = performance.now();
    }
    rounds.push((n * 1000) / (t - t0));
  }
  rounds.sort((a, b) => a - b);
  const median = rounds[3];
  console.log(`${name.padEnd(52)} ${Math.round(median).toLocaleString('en-US').padStart(12)} msg/s  (${(1e6 / median).toFixed(2)} µs each)`);
  return median;
}

const invite = Buffer.from(TYPICAL_INVITE);
const ok = Buffer.from(TYPICAL_200);
let sink = 0;

export function runParserBench(): Record<string, number> {
  const r: Record<string, number> = {};
  r.parseInvite = measure('parse INVITE (framing + validation of core headers)', () => {
    sink += parseMessage(invite).headers.length;
  });
  r.parse200 = measure('parse 200 OK', () => {
    sink += parseMessage(ok).headers.length;
  });
  r.parseInviteStructural = measure('parse INVITE (framing only, validate: false)', () => {
    sink += parseMessage(invite, { validate: false }).headers.length;
  });
  const inv = parseMessage(invite) as SipRequest;
  const res = parseMessage(ok);
  r.serializeInvite = measure('serialize INVITE (untouched)', () => {
    sink += serializeMessage(inv).length;
  });
  r.serialize200 = measure('serialize 200 OK (untouched)', () => {
    sink += serializeMessage(res).length;
  });
  r.proxyInvite = measure('proxy step: parse, MF-1, pop Route, add Via, serialize', () => {
    const m = parseMessage(invite) as SipRequest;
    m.setHeader('Max-Forwards', String((m.maxForwards ?? 70) - 1));
    m.prependHeader('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabcdef0123456789;rport');
    sink += serializeMessage(m).length;
  });
  return r;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`node ${process.version}, one core, ${TYPICAL_INVITE.length}-byte INVITE, ${TYPICAL_200.length}-byte 200`);
  runParserBench();
  if (sink === 42) console.log('');
}
