import { describe, expect, it } from 'vitest';
import { appFor, fakeRelay, next, token, until } from './support/app-harness.js';

describe('RelayConnection: coming back after the relay restarts', () => {
  it('TCP: the dropped connection is noticed, and the services are registered again with the restarted relay', async () => {
    const relay = await fakeRelay();
    const ports = { tcpPort: relay.port('TCP'), udpPort: relay.port('UDP') };
    const app = await appFor(relay, 'TCP', { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    app.invite('wine', (_req, res) => res.reject(486));
    app.invite('beer', (_req, res) => res.reject(486));
    await app.listen();
    const lost = next<{ reason: string }>(app, 'disconnected');
    await relay.close();
    expect((await lost).reason).toMatch(/connection to the relay closed/);
    expect(app.connection.state).toBe('reconnecting');
    await new Promise((r) => setTimeout(r, 150)); // a few failed attempts while it is down
    const restarted = await fakeRelay(ports);
    const ready = next<{ services: string[] }>(app, 'ready');
    expect((await ready).services).toEqual(['wine', 'beer']);
    expect([...restarted.bindings.keys()].sort()).toEqual(['beer@portal.test', 'wine@portal.test']);
    expect(app.connection.state).toBe('ready');
  });

  it('UDP: a keep-alive OPTIONS that goes unanswered is noticed, and the restarted relay gets the registrations again', async () => {
    const relay = await fakeRelay();
    const ports = { tcpPort: relay.port('TCP'), udpPort: relay.port('UDP') };
    const app = await appFor(relay, 'UDP', { keepAliveIntervalMs: 100, keepAliveTimeoutMs: 1000, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    app.invite('wine', (_req, res) => res.reject(486));
    await app.listen();
    await until(() => relay.options.length > 0, 2000, 'keep-alive OPTIONS');
    expect(relay.options[0].uri.toString()).toBe(`sip:127.0.0.1:${ports.udpPort};transport=udp`);
    const lost = next<{ reason: string }>(app, 'disconnected');
    await relay.close();
    expect((await lost).reason).toMatch(/keep-alive OPTIONS failed/);
    const restarted = await fakeRelay(ports);
    await next(app, 'ready');
    expect(restarted.bindings.has('wine@portal.test')).toBe(true);
  });

  it('a refresh the relay refuses counts as losing it: the SDK registers again from scratch', async () => {
    const relay = await fakeRelay();
    const app = await appFor(relay, 'TCP', { registerExpiresSeconds: 2, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
    app.invite('wine', (_req, res) => res.reject(486));
    await app.listen();
    relay.registerStatus = 500;
    const lost = next<{ reason: string }>(app, 'disconnected');
    expect((await lost).reason).toMatch(/refreshing the registration of wine failed: 500/);
    relay.registerStatus = undefined;
    await next(app, 'ready');
    expect(app.connection.registeredServices).toEqual(['wine']);
  });

  it('WS: registers over a WebSocket, takes INVITEs, and comes back after the WebSocket drops', async () => {
    const relay = await fakeRelay();
    const ports = { tcpPort: relay.port('TCP'), udpPort: relay.port('UDP'), wsPort: relay.port('WS') };
    const app = await appFor(relay, 'WS', { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    app.invite('wine', (req, res) => res.accept({ url: `http://localhost:8081/?token=${req.token}` }));
    await app.listen();
    expect(relay.bindings.get('wine@portal.test')).toMatch(/^sip:[a-z0-9]+@127\.0\.0\.1:\d+;transport=ws$/);
    const client = await relay.session('wine', { token: await token() });
    expect(client.inviteResponse!.status).toBe(200);
    const lost = next<{ reason: string }>(app, 'disconnected');
    await relay.close();
    await lost;
    const restarted = await fakeRelay(ports);
    await next(app, 'ready');
    expect(restarted.bindings.has('wine@portal.test')).toBe(true);
  });
});
