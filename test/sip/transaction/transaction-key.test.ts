import { describe, expect, it } from 'vitest';
import { clientTransactionKey, isRfc2543Key, serverTransactionKey } from '../../../sip/transaction/transaction-key.js';
import { request } from './messages.js';

describe('transaction keys', () => {
  describe('client (§17.1.3)', () => {
    it('is the branch and the CSeq method, so CANCEL and INVITE differ', () => {
      expect(clientTransactionKey('z9hG4bK1', 'INVITE')).not.toBe(clientTransactionKey('z9hG4bK1', 'CANCEL'));
      expect(clientTransactionKey('z9hG4bKAbC', 'INVITE')).toBe(clientTransactionKey('z9hG4bKabc', 'INVITE'));
    });
  });

  describe('server (§17.2.3)', () => {
    it('puts an ACK and a CANCEL looked up as INVITE on the INVITE key', () => {
      const invite = request();
      expect(serverTransactionKey(request({ method: 'ACK' }))).toBe(serverTransactionKey(invite));
      expect(serverTransactionKey(request({ method: 'CANCEL' }), 'INVITE')).toBe(serverTransactionKey(invite));
      expect(serverTransactionKey(request({ method: 'CANCEL' }))).not.toBe(serverTransactionKey(invite));
    });

    it('ignores received and rport the layer added to the Via', () => {
      const plain = request({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1' });
      const stamped = request({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=5060;received=192.0.2.1' });
      expect(serverTransactionKey(stamped)).toBe(serverTransactionKey(plain));
      const old = request({ via: 'SIP/2.0/UDP 192.0.2.1:5060' });
      const oldStamped = request({ via: 'SIP/2.0/UDP 192.0.2.1:5060;received=203.0.113.1' });
      expect(serverTransactionKey(oldStamped)).toBe(serverTransactionKey(old));
    });

    it('falls back to RFC 2543 matching without a branch, with a bare magic cookie, or with a branch of another form', () => {
      for (const via of ['SIP/2.0/UDP 192.0.2.1', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK', 'SIP/2.0/UDP 192.0.2.1;branch=1234']) {
        expect(isRfc2543Key(serverTransactionKey(request({ via })))).toBe(true);
      }
      expect(isRfc2543Key(serverTransactionKey(request()))).toBe(false);
    });

    it('leaves the To tag out of RFC 2543 INVITE keys and keeps it in the others', () => {
      const via = 'SIP/2.0/UDP 192.0.2.1';
      expect(serverTransactionKey(request({ via, toTag: 'a' }))).toBe(serverTransactionKey(request({ via, toTag: 'b' })));
      expect(serverTransactionKey(request({ via, method: 'BYE', toTag: 'a' }))).not.toBe(serverTransactionKey(request({ via, method: 'BYE', toTag: 'b' })));
    });
  });
});
