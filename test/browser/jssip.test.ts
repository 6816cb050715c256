import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, screenshot } from './support/chromium.js';
import { startPortalStack, type PortalStack } from './support/portal-stack.js';
import { serveDirectory } from './support/static-server.js';

/**
 * A stock third-party SIP-over-WebSocket client against the relay: JsSIP
 * from npm, unmodified, bundled by Vite into a test page
 * (test/browser/jssip/), in Chromium. It registers with digest, opens a
 * service with the SDP offer it insists on, gets the application server's
 * SDP answer with the service URL in `Call-Info`, receives INFO charges,
 * hangs up — and the relay records and bills the session like any other.
 * docs/clients.md says what JsSIP can and cannot do here.
 */

let stack: PortalStack;
let browser: Browser;
let page: Page;
let pageDir: string;
let pages: { url: string; close(): Promise<void> };

/** Calls a method of `window.jssipClient` in the page. */
function client<T>(p: Page, fn: string, ...args: unknown[]): Promise<T> {
  return p.evaluate(
    ([name, a]) => (window.jssipClient as unknown as Record<string, (...x: unknown[]) => unknown>)[name as string](...(a as unknown[])) as T,
    [fn, args] as const,
  );
}

async function until(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const browserTests = chromiumAvailable();

beforeAll(async () => {
  if (!browserTests) return;
  pageDir = mkdtempSync(join(tmpdir(), 'siprelay-jssip-'));
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: false,
      root: new URL('./jssip/', import.meta.url).pathname,
      base: './',
      mode: 'production',
      logLevel: 'warn',
      build: { outDir: pageDir, emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  pages = await serveDirectory(pageDir);
  // JsSIP 3.13 keeps only the LAST WWW-Authenticate of a 401 (its Parser replaces earlier ones) and
  // knows only MD5. The relay's default challenges are MD5, SHA-256, MD5 again (auth.repeatFirstChallenge),
  // so stock JsSIP signs in with the default configuration (docs/clients.md).
  stack = await startPortalStack({ portalDir: '/nonexistent' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  await page.goto(pages.url);
});

afterAll(async () => {
  await page?.evaluate(() => window.jssipClient.stop()).catch(() => undefined);
  await browser?.close();
  await stack?.stop();
  await pages?.close();
  if (pageDir) rmSync(pageDir, { recursive: true, force: true });
});

describe.runIf(browserTests)('JsSIP (npm, unmodified) against the relay', { timeout: 60_000 }, () => {
  it('registers with digest over WebSocket and gets the portal token like any user agent', async () => {
    const { token } = await client<{ token: string | undefined }>(page, 'register', stack.relay.wsUrl, 'alice', 'alice-secret');
    expect(token).toMatch(/^ey/);
    const bindings = await stack.relay.relay.location.lookup('alice@portal.test');
    expect(bindings).toHaveLength(1);
    expect(bindings[0].contact.host).toMatch(/\.invalid$/);
  });

  it('opens a service with its SDP offer; the application server answers SDP and names the service URL in Call-Info', async () => {
    const outcome = await client<{ status: number; callInfo: string | undefined; contentType: string | undefined }>(page, 'call', 'sip:wine@portal.test', ['Recv-Info: siprelay-charge']);
    expect(outcome.status).toBe(200);
    expect(outcome.contentType).toBe('application/sdp');
    expect(outcome.callInfo).toMatch(/^http:\/\/localhost:\d+\/\?token=ey/);
    await page.frameLocator('#service').getByRole('heading', { name: 'Welcome, Alice' }).waitFor();
    const live = await stack.relay.store.sessions.list({ states: ['established'], limit: 5 });
    expect(live.filter((s) => s.service === 'wine')).toHaveLength(1);
    await screenshot(page, '30-jssip-session');
  });

  it('receives each charge as an INFO of the siprelay-charge package', async () => {
    const url = new URL((await page.locator('#service').getAttribute('src'))!);
    const token = url.searchParams.get('token')!;
    const post = (path: string, body?: unknown) =>
      fetch(`${url.origin}${path}?token=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await post('/basket', { sku: 'W-RIO-19', quantity: 2 })).status).toBe(200);
    await post('/buy');
    await until(async () => (await page.evaluate(() => window.jssipClient.received.length)) > 0);
    const [info] = await page.evaluate(() => window.jssipClient.received);
    expect(info).toMatchObject({ method: 'INFO', contentType: 'application/vnd.siprelay.charge+json', infoPackage: 'siprelay-charge' });
    expect(JSON.parse(info.body).items[0]).toMatchObject({ sku: 'W-RIO-19', quantity: 2, unitPrice: 1490 });
    const charges = await stack.relay.store.charges.list({});
    expect(charges.map((c) => c.total.amount)).toEqual([2980]);
  });

  it('hangs up with BYE; the relay records and bills the session like any other', async () => {
    expect(await client<number>(page, 'hangUpAll')).toBe(1);
    await until(async () => (await stack.relay.store.sessions.list({ limit: 5 })).some((s) => s.service === 'wine' && s.state === 'ended'));
    const [session] = (await stack.relay.store.sessions.list({ limit: 5 })).filter((s) => s.service === 'wine');
    expect(session).toMatchObject({ state: 'ended', endedBy: 'caller' });
    expect(session.durationMs).toBeGreaterThan(0);
    // The user's bill, read with the token JsSIP got at REGISTER.
    const token = await page.evaluate(() => window.jssipClient.token);
    const bill = (await (await fetch(`${stack.relay.httpUrl}/api/v1/me/bill`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      lines: Array<{ kind: string; sessionId: string; amount: { amount: number } }>;
      totals: Array<{ amount: number; currency: string }>;
    };
    expect(bill.lines.filter((l) => l.kind === 'charge').map((l) => [l.sessionId, l.amount.amount])).toEqual([[session.id, 2980]]);
    expect(bill.totals).toEqual([expect.objectContaining({ amount: 2980, currency: 'EUR' })]);
  });

  it('bills a time-billed lesson from its measured time', async () => {
    const outcome = await client<{ status: number }>(page, 'call', 'sip:lesson@portal.test');
    expect(outcome.status).toBe(200);
    await page.waitForTimeout(500);
    await client<number>(page, 'hangUpAll');
    await until(async () => (await stack.relay.store.sessions.list({ limit: 5 })).some((s) => s.service === 'lesson' && s.state === 'ended'));
    const lesson = (await stack.relay.store.sessions.list({ limit: 5 })).find((s) => s.service === 'lesson')!;
    // Setup fee 0.50, first 30 s free (config/demo.yaml).
    expect(lesson.amount).toEqual({ amount: 50, currency: 'EUR' });
  });

  it('follows a REFER hand-over with its own INVITE, linked by the Target-Dialog the app adds', async () => {
    await client<{ status: number }>(page, 'call', 'sip:lesson@portal.test');
    const lessonUrl = new URL((await page.locator('#service').getAttribute('src'))!);
    await page.waitForTimeout(300);
    const r = await fetch(`${lessonUrl.origin}/transfer?token=${lessonUrl.searchParams.get('token')}`, { method: 'POST', headers: { accept: 'application/json' } });
    expect(r.status).toBe(200);
    const stored = await stack.relay.store.sessions.list({ limit: 10 });
    const lesson = stored.find((s) => s.service === 'lesson' && s.state === 'ended' && s.endedBy === 'callee')!;
    const wine = stored.find((s) => s.service === 'wine' && s.state === 'established')!;
    expect(wine.linkedFrom).toBe(lesson.id);
    // JsSIP sends only SDP: the REFER's JSON details (category, topic) do not reach the new INVITE.
    const segments = await stack.relay.store.sessions.segments(wine.id);
    expect(JSON.stringify(segments[0]?.details ?? null)).not.toContain('topic');
    await client<number>(page, 'hangUpAll');
  });

  it('cannot keep a forked comparison: a second 2xx makes JsSIP BYE its first dialog and leave the second un-ACKed', async () => {
    const outcome = await client<{ status: number }>(page, 'call', 'sip:bookstore@portal.test', ['Request-Disposition: no-cancel']);
    expect(outcome.status).toBe(200);
    // The relay relays both answers, each its own session of one fork group. JsSIP 3.13 answers the
    // second 2xx with "ACK and BYE" sent through its *established* dialog (RTCSession.js,
    // _receiveInviteResponse uses this.sendRequest), so the first session is ended and the second is
    // never acknowledged (its application server gives up after 64·T1). docs/clients.md.
    await until(async () => {
      const forks = (await stack.relay.store.sessions.list({ limit: 20 })).filter((s) => s.service === 'bookstore');
      return forks.length === 2 && forks.some((f) => f.state === 'ended');
    });
    const forks = (await stack.relay.store.sessions.list({ limit: 20 })).filter((s) => s.service === 'bookstore');
    expect(forks[0].forkGroup).toBe(forks[1].forkGroup);
    const ended = forks.find((f) => f.state === 'ended')!;
    const other = forks.find((f) => f !== ended)!;
    expect(ended.endedBy).toBe('caller');
    expect(other.state).toBe('answered');
    // JsSIP still believes its one call is up.
    expect(await client<number>(page, 'established')).toBe(1);
  });
});
