import { describe, expect, it } from 'vitest';
import { chargeSipAction } from '../../../server/accounting/charge-sip-action.js';
import type { StoredCharge } from '../../../server/store/charge-repository.js';

const stored = {} as StoredCharge;

describe('chargeSipAction', () => {
  it('relays an accepted charge INFO to the client', () => {
    expect(chargeSipAction({ status: 'accepted', charge: stored })).toEqual({ action: 'relay' });
  });

  it('answers a repeated charge 200 without relaying it again', () => {
    expect(chargeSipAction({ status: 'duplicate', charge: stored })).toEqual({ action: 'respond', status: 200, reason: 'OK' });
  });

  it('answers a refusal with its SIP status and a reason naming the field', () => {
    expect(
      chargeSipAction({
        status: 'refused',
        code: 'BILLING_ERR_CHARGE_INVALID',
        httpStatus: 400,
        sipStatus: 400,
        reason: 'items[0].quantity: must be a positive integer',
        field: 'items[0].quantity',
      }),
    ).toEqual({ action: 'respond', status: 400, reason: 'items[0].quantity: must be a positive integer' });
    expect(chargeSipAction({ status: 'refused', code: 'BILLING_ERR_INSUFFICIENT_CREDIT', httpStatus: 402, sipStatus: 402, reason: 'insufficient credit: no account' })).toMatchObject({ status: 402 });
  });
});
