/**
 * Relay-added latency from a packet capture: how long each SIP message of
 * a call spends inside the relay, from the datagram arriving at the
 * relay's port to the datagram it sends on (tcpdump on loopback, kernel
 * time stamps). Works for any relay on that port (siprelay, Kamailio).
 *
 *   tcpdump -i lo -w relay.pcap udp port 5070 …   (bench/relay/latency.sh does this)
 *   node dist/bench/relay/relay-latency.js relay.pcap 5070 [--json out.json]
 *
 * Per call (Call-ID), first copies only (retransmissions ignored):
 *   invite: the authenticated INVITE (CSeq 2) in from the client -> out to the application server
 *   ok:     its 200 in from the application server -> out to the client
 *   call:   invite + ok = what the relay adds to INVITE -> 200 (the loopback hops are ~10 µs)
 *   ack, bye, byeOk: the same for ACK, BYE and the 200 to BYE
 *   challenge: INVITE (CSeq 1) in -> 401 out
 * Prints p50/p95/p99/max in ms.
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface Packet {
  t: number; // seconds, float
  srcPort: number;
  dstPort: number;
  payload: string;
}

function readPcap(file: string): Packet[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  const magicLE = b.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nano = magicLE === 0xa1b23c4d;
  } else {
    le = false;
    nano = b.readUInt32BE(0) === 0xa1b23c4d;
  }
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = u32(20);
  const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : linkType === 276 ? 20 : linkType === 0 ? 4 : -1;
  if (linkHeader < 0) throw new Error(`unsupported link type ${linkType}`);
  const out: Packet[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    const data = o + 16;
    o = data + incl;
    if (o > b.length) break;
    const ip = data + linkHeader;
    if ((b[ip] >> 4) !== 4) continue;
    const ihl = (b[ip] & 0x0f) * 4;
    if (b[ip + 9] !== 17) continue;
    const udp = ip + ihl;
    const srcPort = b.readUInt16BE(udp);
    const dstPort = b.readUInt16BE(udp + 2);
    const payload = b.subarray(udp + 8, o).toString('latin1');
    out.push({ t: sec + frac / (nano ? 1e9 : 1e6), srcPort, dstPort, payload });
  }
  return out;
}

function header(text: string, name: RegExp): string | undefined {
  const m = name.exec(text);
  return m ? m[1].trim() : undefined;
}

type Kind = 'challenge' | 'invite' | 'ok' | 'ack' | 'bye' | 'byeOk';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function main(): void {
  const args = process.argv.slice(2);
  const [file, portArg] = args;
  if (!file || !portArg) throw new Error('usage: relay-latency <file.pcap> <relay-port> [--json out.json]');
  const relayPort = Number(portArg);
  const jsonAt = args.indexOf('--json');
  const packets = readPcap(file);
  /** key -> [first in, first out] */
  const seen = new Map<string, [number | undefined, number | undefined]>();
  const mark = (key: string, inbound: boolean, t: number) => {
    let e = seen.get(key);
    if (!e) seen.set(key, (e = [undefined, undefined]));
    const i = inbound ? 0 : 1;
    if (e[i] === undefined) e[i] = t;
  };
  for (const p of packets) {
    const inbound = p.dstPort === relayPort;
    const outbound = p.srcPort === relayPort;
    if (!inbound && !outbound) continue;
    const first = p.payload.slice(0, p.payload.indexOf('\r\n'));
    const callId = header(p.payload, /\r\n(?:Call-ID|i)[ \t]*:([^\r\n]*)/i);
    const cseq = header(p.payload, /\r\nCSeq[ \t]*:([^\r\n]*)/i);
    if (!callId || !cseq) continue;
    const [num, method] = cseq.split(/\s+/);
    let kind: Kind | undefined;
    if (first.startsWith('SIP/2.0 ')) {
      const status = Number(first.slice(8, 11));
      if (status === 401 && method === 'INVITE') kind = 'challenge';
      else if (status === 200 && method === 'INVITE') kind = 'ok';
      else if (status === 200 && method === 'BYE') kind = 'byeOk';
      // 401: the relay's own answer; it "leaves" the relay and the INVITE (CSeq 1) "entered" it
      if (kind === 'challenge') {
        if (outbound) mark(`${callId} challenge`, false, p.t);
        continue;
      }
    } else if (first.startsWith('INVITE ')) {
      if (num === '1' && inbound) {
        mark(`${callId} challenge`, true, p.t);
        continue;
      }
      kind = 'invite';
    } else if (first.startsWith('ACK ') && num !== '1') kind = 'ack';
    else if (first.startsWith('BYE ')) kind = 'bye';
    if (kind === undefined) continue;
    mark(`${callId} ${kind}`, inbound, p.t);
  }
  const samples: Record<string, number[]> = { challenge: [], invite: [], ok: [], call: [], ack: [], bye: [], byeOk: [] };
  const perCall = new Map<string, Partial<Record<Kind, number>>>();
  for (const [key, [tin, tout]] of seen) {
    if (tin === undefined || tout === undefined || tout < tin) continue;
    const sp = key.lastIndexOf(' ');
    const callId = key.slice(0, sp);
    const kind = key.slice(sp + 1) as Kind;
    const ms = (tout - tin) * 1000;
    samples[kind].push(ms);
    const c = perCall.get(callId) ?? {};
    c[kind] = ms;
    perCall.set(callId, c);
  }
  for (const c of perCall.values()) if (c.invite !== undefined && c.ok !== undefined) samples.call.push(c.invite + c.ok);
  const summary: Record<string, { n: number; p50: number; p95: number; p99: number; max: number }> = {};
  console.log(`${packets.length} packets, ${perCall.size} calls; time inside the relay, ms:`);
  console.log('what        n       p50     p95     p99     max');
  for (const [k, v] of Object.entries(samples)) {
    v.sort((a, b) => a - b);
    const s = { n: v.length, p50: percentile(v, 50), p95: percentile(v, 95), p99: percentile(v, 99), max: v[v.length - 1] ?? NaN };
    summary[k] = s;
    console.log(`${k.padEnd(9)} ${String(s.n).padStart(6)}  ${[s.p50, s.p95, s.p99, s.max].map((x) => x.toFixed(3).padStart(7)).join(' ')}`);
  }
  if (jsonAt >= 0) writeFileSync(args[jsonAt + 1], JSON.stringify(summary, null, 2) + '\n');
}

main();
