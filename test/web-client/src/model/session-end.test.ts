import { describe, expect, it } from 'vitest';
import { describeTermination } from '../../../../web-client/src/model/session-end.js';
import { bye } from './sip-fixtures.js';

describe('who ended a session', () => {
  it('you, by hanging up', () => {
    expect(describeTermination({ by: 'local', reason: 'bye' }, 'The Wine Cellar', 5)).toEqual({ by: 'you', text: 'You hung up.', at: 5 });
  });
  it('the service, by a BYE without Reason', () => {
    expect(describeTermination({ by: 'remote', reason: 'bye', message: bye() }, 'The Wine Cellar', 0)).toMatchObject({ by: 'service', text: 'The Wine Cellar ended the session.' });
  });
  it('the relay, by a BYE whose Reason names one of its own reasons', () => {
    const end = describeTermination({ by: 'remote', reason: 'bye', message: bye(['Reason: SIP;cause=402;text="credit exhausted"']) }, 'Tasting School', 0);
    expect(end).toMatchObject({ by: 'relay', text: 'The relay ended the session: credit exhausted.' });
    expect(end.reason?.cause).toBe(402);
    expect(describeTermination({ by: 'remote', reason: 'bye', message: bye(['Reason: SIP;cause=503;text="relay shutting down"']) }, 'x', 0).by).toBe('relay');
  });
  it('the service, with its own Reason text', () => {
    expect(describeTermination({ by: 'remote', reason: 'bye', message: bye(['Reason: SIP;text="checked out"']) }, 'The Wine Cellar', 0).text).toBe(
      'The Wine Cellar ended the session: checked out.',
    );
  });
  it('a broken path: 481, timeouts, transport', () => {
    expect(describeTermination({ by: 'remote', reason: 'dialog-gone' }, 'x', 0).by).toBe('connection');
    expect(describeTermination({ by: 'local', reason: 'request-timeout' }, 'x', 0).by).toBe('connection');
  });
});
