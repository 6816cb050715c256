import { describe, expect, it } from 'vitest';
import { chargeSipAction } from '../../../server/accounting/charge-sip-action.js';
import type { StoredCharge } from '../../../server/store/charge-repository.js';

const stored = { idempotencyKey: 'order;7731' } as StoredCharge;

describe('chargeSipAction', () => {
  it('answers a new charge 200 with the receipt and forwards the INFO to the client', () => {
    expect(chargeSipAction({ status: 'accepted', charge: stored })).toEqual({
      status: 200,
      reason: 'OK',
      headers: [['Siprelay-Charge', 'stored;id="order;7731"']],
      forwardToClient: true,
    });
  });

  it('answers a repeated charge 200 with the receipt of the first, without forwarding it again', () => {
    expect(chargeSipAction({ status: 'duplicate', charge: stored })).toMatchObject({ status: 200, forwardToClient: false });
  });

  it('answers a refusal with its SIP status and a reason naming the field, forwarding nothing', () => {
    expect(
      chargeSipAction({
        status: 'refused',
        code: 'BILLING_ERR_CHARGE_INVALID',
        httpStatus: 400,
        sipStatus: 400,
        reason: 'items[0].quantity: must be a positive integer',
        field: 'items[0].quantity',
      }),
    ).toEqual({ status: 400, reason: 'items[0].quantity: must be a positive integer', headers: [], forwardToClient: false });
    expect(chargeSipAction({ status: 'refused', code: 'BILLING_ERR_INSUFFICIENT_CREDIT', httpStatus: 402, sipStatus: 402, reason: 'insufficient credit: no account' })).toMatchObject({ status: 402 });
  });
});
