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
    const end = describeTermination({ by: 'remote', reason: 'bye', message: bye(['Reason: SIP;cause=402;text="credit-exhausted: the user\'s credit ran out"']) }, 'Tasting School', 0);
    expect(end).toMatchObject({ by: 'relay', text: 'The relay ended the session: your credit ran out.' });
    expect(end.reason?.cause).toBe(402);
    const text = (r: string) => describeTermination({ by: 'remote', reason: 'bye', message: bye([`Reason: ${r}`]) }, 'x', 0).text;
    expect(text('SIP;cause=200;text="max-duration: the service\'s maximum duration was reached"')).toBe("The relay ended the session: the service's maximum duration was reached.");
    expect(text('SIP;cause=408;text="session-timer: the caller did not answer"')).toBe('The relay ended the session: the session was not refreshed in time.');
    expect(text('SIP;cause=200;text="operator: maintenance at 10:00"')).toBe('The relay ended the session: the operator ended it: maintenance at 10:00.');
    expect(text('SIP;cause=200;text="operator: ended by the operator"')).toBe('The relay ended the session: the operator ended it.');
    expect(text('SIP;cause=503;text="shutdown: the relay is shutting down"')).toBe('The relay ended the session: the relay is shutting down.');
    // The older, looser wording is read too.
    expect(text('SIP;cause=503;text="relay shutting down"')).toBe('The relay ended the session: the relay is shutting down.');
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
