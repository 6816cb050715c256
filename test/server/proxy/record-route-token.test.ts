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
