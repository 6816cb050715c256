import { describe, expect, it } from 'vitest';
import { RecordRouteSigner } from '../../../server/proxy/record-route-token.js';

describe('RecordRouteSigner', () => {
  const signer = new RecordRouteSigner('a-test-secret-of-enough-length');

  it('signs the caller flow and verifies it for the same Call-ID', () => {
    const token = signer.sign({ callerFlowId: 'ws/abc.1', calleeFlowId: undefined }, 'call-1@host');
    expect(signer.verify(token, 'call-1@host')).toEqual({ callerFlowId: 'ws/abc.1', calleeFlowId: undefined });
  });

  it('carries the callee flow too when given', () => {
    const token = signer.sign({ callerFlowId: 'udp/127.0.0.1:5060/127.0.0.1:4000', calleeFlowId: 'tcp/x.7' }, 'c');
    expect(signer.verify(token, 'c')).toEqual({ callerFlowId: 'udp/127.0.0.1:5060/127.0.0.1:4000', calleeFlowId: 'tcp/x.7' });
  });

  it('writes only URI-unreserved characters, so the token needs no escaping in a user part', () => {
    const token = signer.sign({ callerFlowId: 'udp/[::1]:5060/[::1]:4000', calleeFlowId: 'ws/Z9.12' }, 'c');
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('refuses the token of another dialog (the dialog stamp covers the Call-ID)', () => {
    const token = signer.sign({ callerFlowId: 'ws/abc.1', calleeFlowId: undefined }, 'call-1');
    expect(signer.verify(token, 'call-2')).toBeUndefined();
  });

  it('refuses a token whose flow was altered', () => {
    const token = signer.sign({ callerFlowId: 'ws/abc.1', calleeFlowId: undefined }, 'c');
    const mac = token.slice(token.indexOf('.'));
    const forged = Buffer.from('ws/abc.2').toString('base64url') + mac;
    expect(signer.verify(forged, 'c')).toBeUndefined();
  });

  it('refuses tokens made with another secret, and garbage', () => {
    const other = new RecordRouteSigner('another-secret-of-enough-length');
    const token = other.sign({ callerFlowId: 'ws/abc.1', calleeFlowId: undefined }, 'c');
    expect(signer.verify(token, 'c')).toBeUndefined();
    for (const bad of ['', '.', 'abc', 'abc.', '.abc', 'a.b.c', 'YWJj.AAAA', '%%%.%%%']) expect(signer.verify(bad, 'c')).toBeUndefined();
  });

  it('two signers with the same secret agree (a restarted node keeps its dialogs)', () => {
    const a = new RecordRouteSigner(new Uint8Array(32).fill(7));
    const b = new RecordRouteSigner(new Uint8Array(32).fill(7));
    expect(b.verify(a.sign({ callerFlowId: 'f', calleeFlowId: undefined }, 'c'), 'c')).toBeDefined();
  });

  it('throws TypeError for a short secret', () => {
    expect(() => new RecordRouteSigner('short')).toThrow(TypeError);
    expect(() => new RecordRouteSigner(new Uint8Array(8))).toThrow(TypeError);
  });
});

describe('RecordRouteSigner MAC', () => {
  it('is HMAC-SHA256 over "payload LF Call-ID", truncated to 96 bits (RFC 2104, RFC 5626 §5.2)', async () => {
    const { createHmac } = await import('node:crypto');
    for (const secret of ['a-test-secret-of-enough-length', 'k'.repeat(100)]) {
      const signer = new RecordRouteSigner(secret);
      for (const callId of ['c', 'x'.repeat(600)]) {
        const token = signer.sign({ callerFlowId: 'udp/127.0.0.1:5060/127.0.0.1:4000', calleeFlowId: 'tcp/x.7' }, callId);
        const expected = createHmac('sha256', Buffer.from(secret)).update('udp/127.0.0.1:5060/127.0.0.1:4000 tcp/x.7\n' + callId).digest().subarray(0, 12);
        expect(token.slice(token.indexOf('.') + 1)).toBe(expected.toString('base64url'));
      }
    }
  });

  it('verifies the same token again from its cache, and still refuses it for another Call-ID', () => {
    const signer = new RecordRouteSigner('a-test-secret-of-enough-length', 2);
    const token = signer.sign({ callerFlowId: 'f', calleeFlowId: undefined }, 'c1');
    expect(signer.verify(token, 'c1')).toBeDefined();
    expect(signer.verify(token, 'c1')).toBeDefined();
    expect(signer.verify(token, 'c2')).toBeUndefined();
    for (let i = 0; i < 5; i++) signer.verify(signer.sign({ callerFlowId: 'g' + i, calleeFlowId: undefined }, 'c'), 'c');
    expect(signer.verify(token, 'c1')).toEqual({ callerFlowId: 'f', calleeFlowId: undefined });
  });
});
