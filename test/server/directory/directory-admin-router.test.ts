import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APP_SERVER_ACCOUNTS } from '../../../demo-appserver/demo-accounts.js';
import { startDemoAppServers, type RunningDemoAppServers } from '../../../demo-appserver/start-demo-app-servers.js';
import { startTestRelay, type TestRelay } from '../../support/test-relay.js';

describe('GET /admin/v1/targets (the operator console’s view of the directory)', () => {
  let t: TestRelay;
  let demo: RunningDemoAppServers;

  beforeAll(async () => {
    t = await startTestRelay({
      config: { services: [{ name: 'wine', description: 'Wine shop' }] },
      appServers: DEMO_APP_SERVER_ACCOUNTS.filter((a) => a.name === 'wineshop').map((a) => ({ name: a.name, password: a.password, services: [...a.services] })),
    });
    demo = await startDemoAppServers({ apps: ['wineshop'], ports: { wineshop: 0 }, relay: `sip:${t.tcp.host}:${t.tcp.port};transport=tcp`, relayHttpUrl: t.httpUrl });
  });
  afterAll(async () => {
    await demo?.close();
    await t?.stop();
  });

  it('lists each target with its health for the admin token', async () => {
    const r = await fetch(`${t.httpUrl}/admin/v1/targets`, { headers: { authorization: 'Bearer test-admin-token-0123456789' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const { targets } = (await r.json()) as { targets: Array<Record<string, unknown>> };
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({ service: 'wine', appServer: 'wineshop', source: 'registered', up: true });
    expect(typeof targets[0].expiresAt).toBe('string');
  });

  it('refuses anyone without the admin token', async () => {
    expect((await fetch(`${t.httpUrl}/admin/v1/targets`)).status).toBe(401);
    expect((await fetch(`${t.httpUrl}/admin/v1/targets`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } })).status).toBe(401);
  });
});
