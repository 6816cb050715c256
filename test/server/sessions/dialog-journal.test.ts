import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSipUriStrict } from '../../../sip/grammar/uri.js';
import { DialogRegistry, type RelayedDialog } from '../../../server/core/dialog-registry.js';
import { dialogFromSnapshot, dialogSnapshot } from '../../../server/core/dialog-snapshot.js';
import { DialogJournal } from '../../../server/sessions/dialog-journal.js';
import { newSecret, RelaySettings } from '../../../server/sessions/relay-settings.js';
import type { OpenedStore } from '../../../server/store/open-store.js';
import { backends, scratchDatabase, type ScratchDatabase } from '../store/store-backends.js';

function dialog(sessionId: string, over: Partial<RelayedDialog> = {}): RelayedDialog {
  return {
    key: DialogRegistry.key(`call-${sessionId}`, 'a', 'b'),
    kind: 'service',
    sessionId,
    forkGroup: 'g1',
    callId: `call-${sessionId}`,
    callerTag: 'a',
    calleeTag: 'b',
    party: { kind: 'subscriber', id: 1, username: 'alice', domain: 'portal.test', plan: 'student' },
    service: 'wine',
    target: { appServer: 'wine-shop', uri: parseSipUriStrict('sip:wine@127.0.0.1:5090'), flowId: undefined, weight: 2, source: 'static', load: 3 },
    linkedFrom: undefined,
    state: 'confirmed',
    inviteCSeq: 1,
    callerFlowId: 'udp/127.0.0.1:5060/127.0.0.1:5070',
    calleeFlowId: undefined,
    callerAddress: '<sip:alice@portal.test>;tag=a',
    calleeAddress: '<sip:wine@portal.test>;tag=b',
    callerContact: '<sip:alice@127.0.0.1:5070>',
    calleeContact: '<sip:wine@127.0.0.1:5090>',
    recordRoute: ['<sip:tok@127.0.0.1:5060;transport=udp;lr>'],
    callerCSeq: 4,
    calleeCSeq: 7,
    callerCSeqStale: false,
    calleeCSeqStale: false,
    answeredAt: 1_000,
    startedAt: 1_050,
    countsLoad: true,
    lastChange: undefined,
    sessionTimer: { intervalSeconds: 600, refresher: 'uac' },
    addedSessionExpires: undefined,
    restored: false,
    resumePending: false,
    ...over,
  };
}

describe('dialog snapshots', () => {
  it('rebuild a dialog as it was, marked restored, its CSeq numbers possibly stale and no load held', () => {
    const d = dialog('s1');
    const back = dialogFromSnapshot(JSON.parse(JSON.stringify(dialogSnapshot(d))), true)!;
    expect(back).toMatchObject({
      key: d.key,
      sessionId: 's1',
      party: d.party,
      callerContact: d.callerContact,
      recordRoute: d.recordRoute,
      callerCSeq: 4,
      calleeCSeq: 7,
      callerCSeqStale: true,
      calleeCSeqStale: true,
      state: 'confirmed',
      sessionTimer: { intervalSeconds: 600, refresher: 'uac' },
      restored: true,
      resumePending: true,
      countsLoad: false,
    });
    expect(back.target?.uri.toString()).toBe('sip:wine@127.0.0.1:5090');
    expect(back.target?.load).toBe(0);
    expect(dialogFromSnapshot(dialogSnapshot(d), false)?.state).toBe('answered');
  });

  it('refuse a snapshot of another version or one that does not hold together', () => {
    expect(dialogFromSnapshot({ ...dialogSnapshot(dialog('s1')), v: 99 }, true)).toBeUndefined();
    expect(dialogFromSnapshot({ ...dialogSnapshot(dialog('s1')), callId: '' }, true)).toBeUndefined();
    expect(dialogFromSnapshot({ ...dialogSnapshot(dialog('s1')), target: { appServer: 'x', uri: 'not a uri', weight: 1, source: 'static' } }, true)).toBeUndefined();
  });
});

describe.each(backends)('the dialog journal and relay settings on $name', ({ kind }) => {
  let scratch: ScratchDatabase;
  let store: OpenedStore;
  beforeAll(async () => {
    scratch = scratchDatabase(kind);
    store = await scratch.open();
  });
  afterAll(async () => {
    await store.close();
    await scratch.dispose();
  });
  beforeEach(async () => {
    await store.db.withTables<{ session_dialogs: { session_id: string }; relay_settings: { name: string } }>().deleteFrom('session_dialogs').execute();
    await store.db.withTables<{ relay_settings: { name: string } }>().deleteFrom('relay_settings').execute();
  });

  it("keeps a node's snapshots: written, rewritten, removed, and loaded by that node only", async () => {
    const one = new DialogJournal({ db: store.db, nodeId: 'n1' });
    const other = new DialogJournal({ db: store.db, nodeId: 'n2' });
    await one.record(dialog('s1'));
    await one.record(dialog('s2'));
    await other.record(dialog('s3'));
    await one.record(dialog('s1', { callerContact: '<sip:alice@127.0.0.1:5999>' }));
    const loaded = await one.load();
    expect([...loaded.keys()].sort()).toEqual(['s1', 's2']);
    expect(loaded.get('s1')?.callerContact).toBe('<sip:alice@127.0.0.1:5999>');
    one.remove('s2');
    await new Promise((r) => setTimeout(r, 50));
    expect([...(await one.load()).keys()]).toEqual(['s1']);
    expect([...(await other.load()).keys()]).toEqual(['s3']);
  });

  it('prunes the snapshots of sessions that are no longer open', async () => {
    const j = new DialogJournal({ db: store.db, nodeId: 'n1' });
    for (const id of ['s1', 's2', 's3']) await j.record(dialog(id));
    expect(await j.prune(new Set(['s2']))).toBe(2);
    expect([...(await j.load()).keys()]).toEqual(['s2']);
    expect(await j.prune(new Set())).toBe(1);
  });

  it('writes through the given durable write (the group committer)', async () => {
    let runs = 0;
    const j = new DialogJournal({
      db: store.db,
      nodeId: 'n1',
      write: (work) => {
        runs++;
        return store.db.transaction().execute(work);
      },
    });
    await j.record(dialog('s1'));
    expect(runs).toBe(1);
  });

  it('makes a setting once and reads the same value back, also from a second relay at once', async () => {
    const a = new RelaySettings(store.db);
    const b = new RelaySettings(store.db);
    const [x, y] = await Promise.all([a.getOrCreate('record-route-secret', newSecret), b.getOrCreate('record-route-secret', newSecret)]);
    expect(x).toBe(y);
    expect(x).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await a.getOrCreate('record-route-secret', () => 'other')).toBe(x);
    expect(await a.get('nonce-secret')).toBeUndefined();
  });
});
