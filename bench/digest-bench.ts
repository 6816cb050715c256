/**
 * Digest authentication on one core: how many requests a relay node can
 * verify per second with MD5 and with SHA-256, and what the parts cost.
 *   npx tsx bench/digest-bench.ts      (or node dist/bench/digest-bench.js after a build)
 * Each figure is the median of 7 rounds of ~1 s after a warm-up. The
 * verifications use the real DigestVerifier (header parse, nonce MAC check,
 * HA1 lookup from a Map, response hash, constant-time compare); the
 * nonce-count store is measured on its own, because a store that records
 * would turn every repeated request into a replay.
 */
import { computeHa1, type DigestAlgorithm } from '../sip/auth/digest-algorithm.js';
import { buildDigestChallenge } from '../sip/auth/digest-challenge.js';
import { DigestClient } from '../sip/auth/digest-client.js';
import { DigestVerifier } from '../sip/auth/digest-verifier.js';
import { MemoryNonceCountStore } from '../sip/auth/nonce-count-store.js';
import { NonceService } from '../sip/auth/nonce-service.js';
import { createResponse } from '../sip/message/create-response.js';
import { parseMessage } from '../sip/message/parser.js';
import type { SipRequest } from '../sip/message/sip-request.js';
import { TYPICAL_INVITE } from './fixtures.js';

const REALM = 'portal.test';

async function measure(name: string, fn: () => unknown): Promise<number> {
  const rounds: number[] = [];
  for (let round = 0; round < 8; round++) {
    const t0 = performance.now();
    let n = 0;
    let t = t0;
    while (t - t0 < 1000) {
      for (let i = 0; i < 500; i++) await fn();
      n += 500;
      t = performance.now();
    }
    if (round > 0) rounds.push((n * 1000) / (t - t0)); // round 0 warms up
  }
  rounds.sort((a, b) => a - b);
  const median = rounds[3];
  console.log(`${name.padEnd(56)} ${Math.round(median).toLocaleString('en-US').padStart(10)} /s  (${(1e6 / median).toFixed(2)} µs each)`);
  return median;
}

/** The INVITE of the parser benchmark with a client's answer to the relay's challenge for `algorithm`. */
function authorizedInvite(nonces: NonceService, algorithm: DigestAlgorithm): SipRequest {
  const request = parseMessage(TYPICAL_INVITE) as SipRequest;
  const challenge = createResponse(request, 407, { toTag: 't' });
  for (const v of buildDigestChallenge({ realm: REALM, nonce: nonces.create(REALM), algorithms: [algorithm] })) {
    challenge.addHeader('Proxy-Authenticate', v);
  }
  const client = new DigestClient({ username: 'alice', password: 'alice-secret' }, { algorithms: [algorithm] });
  if (!client.authorize(request, challenge)) throw new Error('client refused the challenge');
  return request;
}

export async function runDigestBench(): Promise<Record<string, number>> {
  const nonces = new NonceService({ secret: 'bench-secret-0123456789' });
  const ha1 = new Map<string, string>();
  for (const a of ['MD5', 'SHA-256'] as const) ha1.set(a, computeHa1(a, 'alice', REALM, 'alice-secret'));
  const verifier = new DigestVerifier({
    realm: REALM,
    nonceService: nonces,
    nonceCountStore: { checkAndRecord: () => true },
    lookupHa1: async (_user, _realm, algorithm) => ha1.get(algorithm),
  });
  const r: Record<string, number> = {};
  for (const algorithm of ['MD5', 'SHA-256'] as const) {
    const request = authorizedInvite(nonces, algorithm);
    const check = await verifier.verify(request, 'proxy-authorization');
    if (!check.ok) throw new Error(`bench setup: ${check.reason}`);
    r[`verify${algorithm}`] = await measure(`verify ${algorithm} (DigestVerifier.verify, accepted)`, () =>
      verifier.verify(request, 'proxy-authorization'),
    );
  }
  const wrong = authorizedInvite(nonces, 'MD5');
  wrong.setHeader('Proxy-Authorization', (wrong.header('proxy-authorization') as string).replace(/response="./, 'response="x'));
  r.verifyWrong = await measure('verify MD5, wrong response (bad-credentials)', () => verifier.verify(wrong, 'proxy-authorization'));

  r.nonceCreate = await measure('NonceService.create', () => nonces.create(REALM));
  const nonce = nonces.create(REALM);
  r.nonceVerify = await measure('NonceService.verify', () => nonces.verify(nonce, REALM));
  r.challenge = await measure('challenge: nonce + MD5 and SHA-256 header values', () =>
    buildDigestChallenge({ realm: REALM, nonce: nonces.create(REALM) }),
  );

  const store = new MemoryNonceCountStore({ maxEntries: 1_000_000 });
  let k = 0;
  r.storeNew = await measure('MemoryNonceCountStore.checkAndRecord (new nonces)', () => store.checkAndRecord('n' + k++, 1));

  // Heap taken by a full store of default size, to back the figure in its documentation.
  const full = new MemoryNonceCountStore();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < full.maxEntries; i++) full.checkAndRecord(nonces.create(REALM), 1);
  gc?.();
  const mb = (process.memoryUsage().heapUsed - before) / 1e6;
  console.log(`MemoryNonceCountStore full (${full.size.toLocaleString('en-US')} nonces): ~${mb.toFixed(0)} MB heap${gc ? '' : ' (run with --expose-gc for a firmer figure)'}`);
  r.storeMb = mb;
  return r;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`node ${process.version}, one core, @noble/hashes (pure JS)`);
  await runDigestBench();
}
