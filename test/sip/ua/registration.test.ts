import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { IncomingRequest } from '../../../sip/ua/incoming-request.js';
import { DigestFixture } from './digest-fixture.js';
import { InMemoryNetwork } from './in-memory-network.js';

/** A registrar that challenges, then binds with the expiry it chooses. */
function setup(grant: (req: SipRequest) => number = (r) => Number(r.header('expires'))) {
  const net = new InMemoryNetwork();
  const alice = net.core('alice', '10.0.0.1', { aor: 'sip:alice@portal.test', credentials: { username: 'alice', password: 'alice-secret' } });
  const registrar = net.core('registrar', '10.0.0.5');
  const digest = new DigestFixture(net.clock);
  const registers: SipRequest[] = [];
  let respond: ((r: IncomingRequest) => boolean) | undefined;
  registrar.onRequest = async (r) => {
    registers.push(r.request);
    if (respond?.(r)) return;
    const v = await digest.check(r.request);
    if (!v.ok) return r.reject(401, { headers: v.headers });
    const expires = grant(r.request);
    r.accept({ headers: [['Contact', `${r.request.header('contact')};expires=${expires}`]] });
  };
  const setRespond = (f: (r: IncomingRequest) => boolean) => (respond = f);
  return { net, alice, registrar, registers, setRespond };
}

describe('Registration (RFC 3261 §10)', () => {
  it('registers after a digest challenge and reports the granted expiry', async () => {
    const { net, alice, registers } = setup(() => 60);
    const reg = alice.register({ registrar: 'sip:10.0.0.5', expires: 600 });
    const events: number[] = [];
    reg.on('registered', ({ expires }) => events.push(expires));
    const p = reg.register();
    await net.settle();
    expect((await p).status).toBe(200);
    expect(events).toEqual([60]);
    expect(reg.state).toBe('registered');
    expect(reg.expires).toBe(60);
    expect(registers).toHaveLength(2);
    expect(registers[1].header('authorization')).toMatch(/^Digest /);
    expect(registers[0].header('to')).toBe('<sip:alice@portal.test>');
    expect(registers[0].header('contact')).toBe('<sip:alice@10.0.0.1:5060>');
    expect(registers[0].header('expires')).toBe('600');
  });

  it('registers another address of record under its own identity (third party, §10.2)', async () => {
    const { net, alice, registers } = setup(() => 60);
    const reg = alice.register({ aor: 'sip:wine@portal.test', registrar: 'sip:10.0.0.5' });
    const p = reg.register();
    await net.settle();
    expect((await p).status).toBe(200);
    expect(registers[1].header('to')).toBe('<sip:wine@portal.test>');
    expect(registers[1].from.uri.toString()).toBe('sip:alice@portal.test');
    expect(() => alice.register({ aor: 'not a uri <' })).toThrow(TypeError);
  });

  it('refreshes before expiry with the same Call-ID and a higher CSeq', async () => {
    const { net, alice, registers } = setup(() => 60);
    const reg = alice.register({ registrar: 'sip:10.0.0.5' });
    void reg.register();
    await net.settle();
    expect(registers).toHaveLength(2);
    // Refresh at max(60/2, 60 - 64*T1) = 30 s.
    await net.advance(29_000, 1000);
    expect(registers).toHaveLength(2);
    await net.advance(1_000, 100);
    expect(registers.length).toBeGreaterThan(2);
    const refresh = registers[2];
    expect(refresh.callId).toBe(registers[0].callId);
    expect(refresh.cseq.seq).toBeGreaterThan(registers[1].cseq.seq);
    expect(reg.state).toBe('registered');
  });

  it('unregisters with Expires 0 and stops refreshing', async () => {
    const { net, alice, registers } = setup(() => 60);
    const reg = alice.register({ registrar: 'sip:10.0.0.5' });
    void reg.register();
    await net.settle();
    const gone: number[] = [];
    reg.on('unregistered', ({ response }) => gone.push(response.status));
    const p = reg.unregister();
    await net.settle();
    expect((await p).status).toBe(200);
    expect(gone).toEqual([200]);
    expect(reg.state).toBe('unregistered');
    const count = registers.length;
    expect(registers[count - 1].header('expires')).toBe('0');
    await net.advance(120_000, 5000);
    expect(registers).toHaveLength(count);
  });

  it('retries once with Min-Expires after 423 (§10.2.8)', async () => {
    const { net, alice, registers, setRespond } = setup();
    setRespond((r) => {
      if (Number(r.request.header('expires')) < 1200) {
        r.reject(423, { headers: [['Min-Expires', '1200']] });
        return true;
      }
      return false;
    });
    const reg = alice.register({ registrar: 'sip:10.0.0.5', expires: 300 });
    const p = reg.register();
    await net.settle();
    expect((await p).status).toBe(200);
    expect(registers.map((r) => r.header('expires'))).toContain('1200');
    expect(reg.expires).toBe(1200);
  });

  it('reports a refusal as failed', async () => {
    const { net, alice, setRespond } = setup();
    setRespond((r) => {
      r.reject(403);
      return true;
    });
    const reg = alice.register({ registrar: 'sip:10.0.0.5' });
    const failed: Array<number | undefined> = [];
    reg.on('failed', ({ response }) => failed.push(response?.status));
    const p = reg.register();
    await net.settle();
    expect((await p).status).toBe(403);
    expect(failed).toEqual([403]);
    expect(reg.state).toBe('unregistered');
  });

  it('adds the RFC 5626 instance and reg-id to the Contact', async () => {
    const { net, alice, registers } = setup(() => 60);
    const reg = alice.register({ registrar: 'sip:10.0.0.5', instanceId: 'urn:uuid:00000000-0000-1000-8000-000A95A0E128', regId: 1 });
    void reg.register();
    await net.settle();
    expect(registers[0].header('contact')).toBe('<sip:alice@10.0.0.1:5060>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1');
    expect(registers[0].header('supported')).toContain('outbound');
    expect(reg.expires).toBe(60);
  });

  it('defaults the registrar to the domain of the AOR', async () => {
    const net = new InMemoryNetwork();
    const alice = net.core('alice', '10.0.0.1', { aor: 'sip:alice@10.0.0.5' });
    const registrar = net.core('registrar', '10.0.0.5');
    const uris: string[] = [];
    registrar.onRequest = (r) => {
      uris.push(r.request.rawUri);
      r.accept();
    };
    const p = alice.register().register();
    await net.settle();
    expect((await p).status).toBe(200);
    expect(uris).toEqual(['sip:10.0.0.5']);
  });
});
