import { describe, expect, it } from 'vitest';
import { chargeBodyOf } from '../../../server/accounting/in-dialog-charges.js';
import { buildMultipart } from '../../../sip/message/multipart.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import { SipResponse } from '../../../sip/message/sip-response.js';
import { backends } from '../store/store-backends.js';
import { establish, milestone, useAccounting } from './accounting-fixture.js';

const CHARGE = 'application/vnd.siprelay.charge+json';
const charge = (id: string, unitPrice = 2450, quantity = 1) =>
  JSON.stringify({ id, items: [{ sku: 'BDX', description: 'Bordeaux', unitPrice, quantity, currency: 'EUR' }] });
const info = (body: string, type = CHARGE) =>
  new SipRequest('INFO', 'sip:alice@127.0.0.1', [['Content-Type', type], ['Info-Package', 'siprelay-charge']], body);

describe('chargeBodyOf', () => {
  it('finds the charge as the whole body or as a part of multipart/mixed, and nothing else', () => {
    expect(new TextDecoder().decode(chargeBodyOf(info(charge('a'))))).toBe(charge('a'));
    const mp = buildMultipart([
      { contentType: 'application/sdp', body: 'v=0\r\n' },
      { contentType: CHARGE, body: charge('b') },
    ]);
    const mixed = new SipRequest('INFO', 'sip:a@b', [['Content-Type', mp.contentType]], mp.body);
    expect(new TextDecoder().decode(chargeBodyOf(mixed))).toBe(charge('b'));
    expect(chargeBodyOf(info('{}', 'application/json'))).toBeUndefined();
    expect(chargeBodyOf(new SipRequest('INFO', 'sip:a@b', [['Content-Type', 'multipart/mixed; boundary=x']], 'junk'))).toBeUndefined();
  });
});

describe.each(backends)('charges inside a dialog on $name', ({ kind }) => {
  const t = useAccounting(kind);
  const shop = async () => {
    const m = milestone({ service: 'wine', appServer: 'wine-shop' });
    await establish(t.accounting, m);
    return m;
  };

  describe('an INFO from the application server', () => {
    it('is stored, answered with the receipt, and forwarded to the client', async () => {
      const m = await shop();
      expect(await t.accounting.recorder.inDialogRequest(info(charge('o-1')), m, 'callee')).toEqual({
        action: 'respond',
        status: 200,
        reason: 'OK',
        headers: [['Siprelay-Charge', 'stored;id="o-1"']],
        forward: true,
      });
      expect((await t.store.charges.findByKey('wine-shop', 'o-1'))?.route).toBe('info');
    });

    it('sent again is answered 200 with the receipt and not forwarded twice', async () => {
      const m = await shop();
      await t.accounting.recorder.inDialogRequest(info(charge('o;1')), m, 'callee');
      expect(await t.accounting.recorder.inDialogRequest(info(charge('o;1')), m, 'callee')).toEqual({
        action: 'respond',
        status: 200,
        reason: 'OK',
        headers: [['Siprelay-Charge', 'stored;id="o;1"']],
        forward: false,
      });
      expect(await t.store.charges.list({ sessionId: m.sessionId })).toHaveLength(1);
    });

    it('refused is answered with a 4xx naming the field, or 402, and not forwarded', async () => {
      const m = await shop();
      expect(await t.accounting.recorder.inDialogRequest(info(charge('o', 1, 0)), m, 'callee')).toEqual({
        action: 'respond',
        status: 400,
        reason: 'items[0].quantity: must be a positive integer',
        headers: [],
        forward: false,
      });
      expect(await t.accounting.recorder.inDialogRequest(info(charge('o', 6000)), m, 'callee')).toMatchObject({ action: 'respond', status: 402 });
    });
  });

  it('refuses a charge INFO from the client side with 403', async () => {
    const m = await shop();
    expect(await t.accounting.recorder.inDialogRequest(info(charge('o')), m, 'caller')).toMatchObject({ action: 'respond', status: 403 });
    expect(await t.store.charges.list({})).toEqual([]);
  });

  it('leaves other in-dialog requests alone, noting the session alive', async () => {
    const m = await shop();
    t.clock.advance(3000);
    expect(t.accounting.recorder.inDialogRequest(new SipRequest('INFO', 'sip:a@b', [['Content-Type', 'application/dtmf-relay']], 'Signal=1'), m, 'caller')).toBeUndefined();
    expect(t.accounting.recorder.inDialogRequest(new SipRequest('UPDATE', 'sip:a@b'), m, 'caller')).toBeUndefined();
    await t.accounting.recorder.flush();
    expect((await t.store.sessions.get(m.sessionId))?.lastAliveAt).toBeGreaterThanOrEqual(t.clock.wallNow() - 1000);
  });

  it('stores the charge in the application server’s 2xx to the user’s BYE', async () => {
    const m = await shop();
    const bye = new SipRequest('BYE', 'sip:wine-shop@127.0.0.1');
    const ok = new SipResponse(200, 'OK', [['Content-Type', CHARGE]], charge('last'));
    await t.accounting.recorder.inDialogResponse(bye, ok, m, 'caller');
    await t.accounting.recorder.ended(m, 'caller');
    expect((await t.store.charges.findByKey('wine-shop', 'last'))?.route).toBe('bye');
    // The client's 2xx to the application server's BYE carries no charge.
    expect(t.accounting.recorder.inDialogResponse(bye, ok, m, 'callee')).toBeUndefined();
  });

  it('keeps the details of a change with its segment', async () => {
    const m = await shop();
    await t.accounting.recorder.changed({ ...m, service: 'beer' }, {
      method: 'UPDATE',
      by: 'caller',
      contentType: 'application/vnd.siprelay.request+json',
      body: '{"style":"lager"}',
      at: t.clock.wallNow(),
    });
    expect((await t.store.sessions.segments(m.sessionId))[1]).toMatchObject({
      service: 'beer',
      details: { method: 'UPDATE', by: 'caller', contentType: 'application/vnd.siprelay.request+json', details: { style: 'lager' } },
    });
  });
});
