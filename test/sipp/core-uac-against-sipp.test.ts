/**
 * Our user-agent core as UAC against SIPp as UAS, over real UDP and TCP on
 * loopback (issue 2, item 8).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SipResponse } from '../../sip/message/sip-response.js';
import { coreOnLoopback, type CoreOnLoopback } from './core-fixture.js';
import { SIPP, SIPP_SKIP_REASON, SippProcess, type SippProtocol, describeRun, freePort, startLines } from './sipp.js';

const requireSipp = process.env.CI !== undefined;
if (!SIPP && requireSipp) throw new Error(`SIPp tests cannot run in CI: ${SIPP_SKIP_REASON}`);
if (!SIPP) console.warn(`SIPp peer tests skipped: ${SIPP_SKIP_REASON}`);
const suite = SIPP ? describe : describe.skip;
const title = 'our UAC against SIPp as UAS' + (SIPP ? '' : ` — SKIPPED: ${SIPP_SKIP_REASON}`);

let fixture: CoreOnLoopback | undefined;
let sipp: SippProcess | undefined;
afterEach(async () => {
  sipp?.kill();
  sipp = undefined;
  await fixture?.close();
  fixture = undefined;
});

function target(port: number, protocol: SippProtocol): string {
  return `sip:sipp@127.0.0.1:${port}` + (protocol === 'TCP' ? ';transport=tcp' : '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

suite(title, () => {
  describe.each(['UDP', 'TCP'] as const)('over %s', (protocol) => {
    it('INVITE, 180, 200 with the service descriptor, ACK, then our BYE and its 200', async () => {
      const port = await freePort(protocol);
      sipp = await SippProcess.start({ scenario: 'uas-basic', protocol, port });
      fixture = await coreOnLoopback();
      const call = fixture.core.invite(target(port, protocol), { body: '{"service":"wine"}', contentType: 'application/vnd.siprelay.request+json' });
      const progress: number[] = [];
      call.on('progress', (r) => progress.push(r.status));
      const session = await call.session;
      expect(progress).toContain(180);
      expect(JSON.parse(session.inviteResponse?.bodyText ?? '')).toEqual({ url: 'https://sipp.example/' });
      await sleep(100);
      const bye: SipResponse = await session.bye();
      expect(bye.status).toBe(200);
      const run = await sipp.done;
      expect(run.code, describeRun(run)).toBe(0);
      expect(run.stats['SuccessfulCall(C)']).toBe('1');
      expect(startLines(run, 'received').map((l) => l.split(' ')[0])).toEqual(['INVITE', 'ACK', 'BYE']);
      expect(run.messages[0].text).toContain('{"service":"wine"}');
    });
  });

  describe('over UDP', () => {
    it('SIPp ignores the first INVITE: our client transaction retransmits it after T1 (timer A) and the call completes', async () => {
      const port = await freePort('UDP');
      sipp = await SippProcess.start({ scenario: 'uas-ignore-first-invite', protocol: 'UDP', port, noRetransmission: true });
      fixture = await coreOnLoopback();
      const call = fixture.core.invite(target(port, 'UDP'));
      const session = await call.session;
      await sleep(100);
      expect((await session.bye()).status).toBe(200);
      const run = await sipp.done;
      expect(run.code, describeRun(run)).toBe(0);
      const invites = run.messages.filter((m) => m.direction === 'received' && m.startLine.startsWith('INVITE '));
      expect(invites).toHaveLength(2);
      // The same request: same branch, same CSeq.
      const branch = (m: { text: string }) => /branch=([^;\s]+)/.exec(m.text)?.[1];
      expect(branch(invites[1])).toBe(branch(invites[0]));
      expect(invites[1].at - invites[0].at).toBeGreaterThanOrEqual(400);
      expect(invites[1].at - invites[0].at).toBeLessThan(1500);
    });
  });
});
