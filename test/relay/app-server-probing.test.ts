/**
 * The relay's OPTIONS probes against real application servers (issue 3,
 * items 4 and 9): an application server that stops answering OPTIONS gets
 * no more requests until it answers again. SIPp plays the application
 * servers (`-aa` answers OPTIONS; without it SIPp ignores them) and the
 * client; the probes run every second (`directory.*Seconds` in the config).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetStatus } from '../../server/directory/app-server-directory.js';
import { startTestRelay, type TestRelay } from '../support/test-relay.js';
import { SIPP, SIPP_SKIP_REASON, SippPeer, freePort, inviteFinals, received, sleep } from './support/sipp-peer.js';

if (!SIPP && process.env.CI !== undefined) throw new Error(`SIPp relay tests cannot run in CI: ${SIPP_SKIP_REASON}`);
if (!SIPP) console.warn(`SIPp probe tests skipped: ${SIPP_SKIP_REASON}`);
const suite = SIPP ? describe : describe.skip;
const title = 'application-server health probes' + (SIPP ? '' : ` — SKIPPED: ${SIPP_SKIP_REASON}`);

suite(title, () => {
  let t: TestRelay;
  let portA: number;
  let portB: number;
  let shopA: SippPeer;
  let shopB: SippPeer;
  const downs: Array<TargetStatus & { reason: string }> = [];

  beforeAll(async () => {
    portA = await freePort('UDP');
    portB = await freePort('UDP');
    const nobody = await freePort('UDP');
    shopA = await SippPeer.start({ scenario: 'relay-uas-answer', protocol: 'UDP', port: portA, service: 'wine', autoAnswer: true });
    shopB = await SippPeer.start({ scenario: 'relay-uas-answer', protocol: 'UDP', port: portB, service: 'wine', autoAnswer: true });
    t = await startTestRelay({
      config: {
        services: [
          { name: 'wine', fork: 'balance' },
          { name: 'solo', description: 'its only application server never answers' },
        ],
        staticTargets: [
          { service: 'wine', uri: `sip:127.0.0.1:${portA}`, appServer: 'shop-a' },
          { service: 'wine', uri: `sip:127.0.0.1:${portB}`, appServer: 'shop-b' },
          { service: 'solo', uri: `sip:127.0.0.1:${nobody}`, appServer: 'shop-nobody' },
        ],
        directory: { probeIntervalSeconds: 1, probeRetryIntervalSeconds: 1, probeTimeoutSeconds: 1 },
      },
    });
    t.relay.directory.on('down', (s) => downs.push(s));
    await until(() => t.relay.directory.lookup('wine').targets.length === 2, 'both shops up');
  });

  afterAll(async () => {
    for (const p of [shopA, shopB]) {
      await p?.stop();
      p?.cleanup();
    }
    await t?.stop();
  });

  const call = (service: string) =>
    SippPeer.run({ scenario: 'relay-uac-call', protocol: 'UDP', remote: t.udp, service, inject: [['alice', t.domain, 'alice-secret']], pauseMs: 20 });

  it('probes every application server with OPTIONS and routes to those that answer', async () => {
    // Two probes at least, one second apart (directory.probeIntervalSeconds: 1).
    await until(() => received(shopB.messages(), 'OPTIONS').length >= 2, 'a second probe');
    const [first, second] = received(shopB.messages(), 'OPTIONS');
    expect(first.startLine).toBe(`OPTIONS sip:127.0.0.1:${portB} SIP/2.0`);
    expect(first.header('From')).toMatch(/^<sip:siprelay@portal\.test>;tag=/);
    expect(second.at - first.at).toBeGreaterThanOrEqual(900);
    expect(t.relay.directory.list().filter((s) => s.service === 'wine' && s.up)).toHaveLength(2);
  });

  it('stops routing to an application server that stops answering OPTIONS, though it would still take INVITEs', async () => {
    // The same port, now a SIPp that ignores OPTIONS (no -aa) but answers any INVITE.
    await shopB.stop();
    shopB.cleanup();
    shopB = await SippPeer.start({ scenario: 'relay-uas-answer', protocol: 'UDP', port: portB, service: 'wine' });
    await until(() => downs.some((d) => d.appServer === 'shop-b'), 'shop-b down', 6000);
    expect(downs.find((d) => d.appServer === 'shop-b')).toMatchObject({ service: 'wine', reason: 'timeout', up: false });
    expect(t.relay.directory.lookup('wine')).toMatchObject({ unavailable: 1 });

    const before = received(shopA.messages(), 'INVITE').length;
    for (let i = 0; i < 4; i++) {
      const run = await call('wine');
      expect(run.code, run.report).toBe(0);
      expect(inviteFinals(run.messages)).toEqual([401, 200]);
    }
    expect(received(shopA.messages(), 'INVITE').length - before).toBe(4);
    expect(received(shopB.messages(), 'INVITE')).toEqual([]);
    expect(received(shopB.messages(), 'OPTIONS').length).toBeGreaterThan(0);
  });

  it('routes to it again once it answers a probe', async () => {
    await shopB.stop();
    shopB.cleanup();
    shopB = await SippPeer.start({ scenario: 'relay-uas-answer', protocol: 'UDP', port: portB, service: 'wine', autoAnswer: true });
    await until(() => t.relay.directory.lookup('wine').targets.length === 2, 'shop-b up again', 6000);
    expect(t.relay.directory.list().find((s) => s.appServer === 'shop-b')).toMatchObject({ up: true, lastStatus: 200 });
  });

  it('answers 480 with Retry-After when the only application server of a service never answers its probes', async () => {
    await until(() => downs.some((d) => d.appServer === 'shop-nobody'), 'shop-nobody down');
    const run = await SippPeer.run({
      scenario: 'relay-uac-rejected',
      protocol: 'UDP',
      remote: t.udp,
      service: 'solo',
      inject: [['alice', t.domain, 'alice-secret']],
      keys: { extra: 'Subject: probe test' },
    });
    expect(run.code, run.report).toBe(0);
    expect(inviteFinals(run.messages)).toEqual([401, 480]);
    // The seconds until the next probe that could bring it back (probeRetryIntervalSeconds: 1).
    expect(Number(run.messages.find((m) => m.status === 480)?.header('Retry-After'))).toBeLessThanOrEqual(1);
  });
});

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}
