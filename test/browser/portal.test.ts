import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PortalClient } from '../../web-client/src/model/portal-client.js';
import { ServiceSession } from '../../web-client/src/model/service-session.js';
import { buildPortal } from './support/build-portal.js';
import { chromiumAvailable, launchChromium, screenshot } from './support/chromium.js';
import { startPortalStack, type PortalStack } from './support/portal-stack.js';

/**
 * The portal in Chromium against the real relay, the real demo application
 * servers and the real store — every flow of issue 6 from sign-in to bill,
 * with a screenshot of each key screen in test-results/screenshots/.
 * The steps build on each other (one signed-in user, her sessions, then her
 * bill), so they run in order.
 */

let stack: PortalStack;
let portalDir: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const helpers: PortalClient[] = [];

/** A live (or ended) pane of `service`. */
const pane = (p: Page, service: string, state: 'live' | 'ended' = 'live'): Locator => p.locator(`article[data-service="${service}"][data-state="${state}"]`);
/** The application's page inside a pane. */
const frameOf = (p: Page, service: string) => p.frameLocator(`article[data-service="${service}"][data-state="live"] iframe`);

/** The deepest focused element (through shadow roots): tag, text and whether a focus ring is drawn. */
async function focused(p: Page): Promise<{ tag: string; text: string; outline: string }> {
  return p.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    const style = el ? getComputedStyle(el) : undefined;
    return { tag: el?.tagName.toLowerCase() ?? '', text: (el?.textContent ?? '').trim(), outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : '' };
  });
}

async function signIn(p: Page, username: string, password: string): Promise<void> {
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

/** A second user agent in the test process (the portal's own model over `ws`), to fill services up. */
async function helper(username: string, password: string): Promise<PortalClient> {
  const c = new PortalClient({ wsUrl: stack.relay.wsUrl, httpBase: stack.relay.httpUrl, domain: 'portal.test', WebSocket: WebSocket as never, reconnect: false });
  helpers.push(c);
  expect(await c.signIn(username, password)).toBe(true);
  return c;
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const browserTests = chromiumAvailable();

beforeAll(async () => {
  if (!browserTests) return;
  portalDir = await buildPortal();
  stack = await startPortalStack({ portalDir, users: [['alice', 'alice-secret'], ['bob', 'bob-secret'], ['carol', 'carol-secret']] });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
});

afterAll(async () => {
  await Promise.allSettled(helpers.map((h) => h.signOut()));
  await browser?.close();
  await stack?.stop();
  if (portalDir) rmSync(portalDir, { recursive: true, force: true });
});

describe.runIf(browserTests)('the portal in a browser', { timeout: 60_000 }, () => {
  it('is served by the relay at / and asks for SIP credentials', async () => {
    const response = await page.goto(stack.portalUrl);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['cache-control']).toBe('no-cache');
    await expect(page.title()).resolves.toBe('siprelay portal');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, '01-sign-in');
  });

  it('says a wrong password plainly, keeps nothing in storage, and moves focus back to the password', async () => {
    await signIn(page, 'alice', 'not-the-password');
    const alert = page.getByRole('alert');
    await expect(alert.textContent()).resolves.toContain('Wrong username or password');
    expect((await focused(page)).tag).toBe('input');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    expect(stored).not.toContain('not-the-password');
    await screenshot(page, '02-wrong-password');
  });

  it('signs in with digest over the WebSocket and shows the catalogue with descriptions and tariffs', async () => {
    await signIn(page, 'alice', 'alice-secret');
    await page.getByText('sip:alice@portal.test').waitFor();
    const lesson = page.locator('li[data-service="lesson"]');
    await expect(lesson.textContent()).resolves.toContain('Video lesson, billed by the minute');
    await expect(lesson.locator('[data-test=tariff]').textContent()).resolves.toBe('€1.20 per minute · billed in 60 s steps · first 30 s free · €0.50 per session');
    await expect(page.locator('li[data-service="wine"] [data-test=tariff]').textContent()).resolves.toBe('Time is free');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(stored).not.toContain('alice-secret');
    await screenshot(page, '03-catalogue');
  });

  it('opens a service: the pane shows the service URL from the 2xx, a live timer and the time charge', async () => {
    await page.getByRole('button', { name: 'Open wine' }).click();
    const wine = pane(page, 'wine');
    await wine.waitFor();
    const src = await wine.locator('iframe').getAttribute('src');
    expect(src).toMatch(/^http:\/\/localhost:\d+\/\?token=ey/);
    await frameOf(page, 'wine').getByRole('heading', { name: 'Welcome, Alice' }).waitFor();
    await expect(wine.locator('[data-test=time-charge]').textContent()).resolves.toContain('free');
    const t1 = await wine.locator('[data-test=timer]').textContent();
    await page.waitForTimeout(2100);
    const t2 = await wine.locator('[data-test=timer]').textContent();
    expect(t2).not.toBe(t1);
    // The relay recorded the session as established for alice.
    const live = await stack.relay.store.sessions.list({ states: ['established'], limit: 10 });
    expect(live.some((s) => s.service === 'wine' && s.userId.startsWith('alice'))).toBe(true);
    await screenshot(page, '04-wine-pane');
  });

  it('shows each application charge as its INFO arrives', async () => {
    const shop = frameOf(page, 'wine');
    await shop.getByRole('button', { name: 'Add' }).first().click();
    await shop.getByRole('button', { name: 'Buy', exact: true }).click();
    const wine = pane(page, 'wine');
    await wine.locator('[data-test=charges] li').first().waitFor();
    await expect(wine.locator('[data-test=charges]').textContent()).resolves.toContain('1 × Château Margaux-Lès-Bois 2015 (Bordeaux, red, 75 cl)');
    await expect(wine.locator('[data-test=charges-total]').textContent()).resolves.toBe('€24.50');
    const stored = await stack.relay.store.charges.list({});
    expect(stored.some((c) => c.total.amount === 2450 && c.route === 'info')).toBe(true);
    await screenshot(page, '05-charge-by-info');
  });

  it('changes the service in place (UPDATE: wine → beer shelf) and the pane follows the new 2xx', async () => {
    const wine = pane(page, 'wine');
    await wine.getByLabel('Shelf').selectOption('beer');
    await wine.getByLabel('By').selectOption('UPDATE');
    await wine.getByRole('button', { name: 'Change' }).click();
    await wine.getByRole('heading', { name: /The Wine Cellar — Beers & ciders/ }).waitFor();
    await frameOf(page, 'wine').locator('[data-test=category-beer].on').waitFor();
    const id = (await stack.relay.store.sessions.list({ states: ['established'], limit: 10 })).find((s) => s.service === 'wine')!.id;
    const segments = await stack.relay.store.sessions.segments(id);
    // The relay recorded the change with its method and details (flow 7).
    expect(JSON.stringify(segments.at(-1)?.details)).toContain('"category":"beer"');
    expect(JSON.stringify(segments.at(-1)?.details)).toContain('UPDATE');
    await screenshot(page, '06-changed-in-place');
  });

  it('changes back with a re-INVITE', async () => {
    const wine = pane(page, 'wine');
    await wine.getByLabel('Shelf').selectOption('wine');
    await wine.getByLabel('By').selectOption('INVITE');
    await wine.getByRole('button', { name: 'Change' }).click();
    await wine.getByRole('heading', { name: /The Wine Cellar — Wines/ }).waitFor();
  });

  it('compares the bookstores: one INVITE forked to both, two panes side by side, each its own session and closable', async () => {
    const card = page.locator('li[data-service="bookstore"]');
    await card.getByLabel('Search').fill('dune');
    await card.getByRole('button', { name: 'Compare all' }).click();
    const group = page.locator('section[data-group]');
    await group.locator('article[data-state="live"]').nth(1).waitFor();
    await expect(group.locator('article').count()).resolves.toBe(2);
    await expect(group.locator('h3', { hasText: 'Alder Books' }).count()).resolves.toBe(1);
    await expect(group.locator('h3', { hasText: 'Birch & Quill' }).count()).resolves.toBe(1);
    // Side by side on a wide screen.
    const [a, b] = await Promise.all([group.locator('article').nth(0).boundingBox(), group.locator('article').nth(1).boundingBox()]);
    expect(Math.abs(a!.y - b!.y)).toBeLessThan(2);
    expect(b!.x).toBeGreaterThan(a!.x + a!.width - 1);
    const forks = (await stack.relay.store.sessions.list({ states: ['established'], limit: 20 })).filter((s) => s.service === 'bookstore');
    expect(forks).toHaveLength(2);
    expect(forks[0].forkGroup).toBe(forks[1].forkGroup);
    expect(new Set(forks.map((f) => f.appServer))).toEqual(new Set(['bookstore-a', 'bookstore-b']));
    await screenshot(page, '07-compare-bookstores');

    // Close one: hang up, then close its pane; the other goes on.
    const birch = group.locator('article[data-state="live"]', { hasText: 'Birch & Quill' });
    await birch.getByRole('button', { name: 'Hang up' }).click();
    const ended = group.locator('article[data-state="ended"]');
    await expect(ended.locator('[data-test=end-reason]').textContent()).resolves.toContain('You hung up.');
    await ended.getByRole('button', { name: 'Close pane' }).click();
    await expect(group.locator('article').count()).resolves.toBe(1);
    await expect(group.locator('article[data-state="live"] h3').textContent()).resolves.toContain('Alder Books');
  });

  it('runs several sessions at once, each with its own pane, and bills time by the tariff', async () => {
    await page.locator('li[data-service="lesson"]').getByRole('button', { name: 'Open lesson' }).click();
    const lesson = pane(page, 'lesson');
    await lesson.waitFor();
    await frameOf(page, 'lesson').locator('[data-test=elapsed]').waitFor();
    // Setup fee at once; the first 30 s free.
    await expect(lesson.locator('[data-test=time-charge]').textContent()).resolves.toMatch(/€0\.50 \(free for \d+ s\)/);
    await expect(page.locator('[data-test=live-count]').textContent()).resolves.toBe('(3 open)');
    await screenshot(page, '08-several-sessions');
  });

  it('follows a transfer the application server asks for (REFER): the new session is linked and the old one ends', async () => {
    await frameOf(page, 'lesson').getByRole('button', { name: 'Continue in the wine shop' }).click();
    const ended = pane(page, 'lesson', 'ended');
    await ended.waitFor();
    await expect(ended.locator('[data-test=end-reason]').textContent()).resolves.toContain('Tasting School');
    await expect(ended.locator('[data-test=transfer-note]').textContent()).resolves.toContain('Continued in “wine”');
    const linked = page.locator('article[data-service="wine"][data-state="live"]', { has: page.locator('[data-test=linked-from]') });
    await expect(linked.locator('[data-test=linked-from]').textContent()).resolves.toContain('Tasting School');
    const stored = await stack.relay.store.sessions.list({ limit: 50 });
    const lessonRecord = stored.find((s) => s.service === 'lesson' && s.state === 'ended')!;
    expect(stored.some((s) => s.service === 'wine' && s.linkedFrom === lessonRecord.id)).toBe(true);
    expect(lessonRecord.endedBy).toBe('callee');
    await screenshot(page, '09-transfer-by-refer');
  });

  it('moves from one session to another service on the user’s request (Target-Dialog), linking them', async () => {
    const linked = page.locator('article[data-service="wine"][data-state="live"]', { has: page.locator('[data-test=linked-from]') });
    await linked.getByLabel('Move to').selectOption('beer');
    await linked.getByRole('button', { name: 'Move' }).click();
    const beer = pane(page, 'beer');
    await beer.waitFor();
    await expect(beer.locator('[data-test=linked-from]').textContent()).resolves.toContain('The Wine Cellar');
    await expect(page.locator('article[data-service="wine"][data-state="ended"] [data-test=end-reason]').first().textContent()).resolves.toContain('You moved to “beer”.');
    const stored = await stack.relay.store.sessions.list({ limit: 50 });
    const beerRecord = stored.find((s) => s.service === 'beer' && s.state === 'established')!;
    expect(stored.find((s) => s.id === beerRecord.linkedFrom)?.service).toBe('wine');
    await screenshot(page, '10-user-transfer');
  });

  it('closes the pane with the reason when the application server ends the session', async () => {
    // "Buy and leave" in the first wine shop: charges, then the shop's BYE.
    const firstWine = page.locator('article[data-service="wine"][data-state="live"]').first();
    const key = await firstWine.getAttribute('data-key');
    await page.frameLocator(`article[data-key="${key}"] iframe`).getByRole('button', { name: /Leave the shop|Buy and leave/ }).click();
    const ended = page.locator(`article[data-key="${key}"][data-state="ended"]`);
    await ended.waitFor();
    await expect(ended.locator('[data-test=end-reason]').textContent()).resolves.toContain('The Wine Cellar');
    await expect(ended.locator('iframe').count()).resolves.toBe(0);
    await screenshot(page, '11-ended-by-service');
  });

  it('hangs up with BYE from the portal', async () => {
    const beer = pane(page, 'beer');
    await beer.getByRole('button', { name: 'Hang up' }).click();
    await expect(pane(page, 'beer', 'ended').locator('[data-test=end-reason]').textContent()).resolves.toContain('You hung up.');
    const stored = await stack.relay.store.sessions.list({ limit: 50 });
    expect(stored.find((s) => s.service === 'beer')).toMatchObject({ state: 'ended', endedBy: 'caller' });
  });

  it('shows the history with durations and charges, and the current period’s bill with totals', async () => {
    // Hang up what is left, so the bill has every session.
    const hangUps = page.getByRole('button', { name: 'Hang up' });
    while ((await hangUps.count()) > 0) await hangUps.first().click();
    await page.getByRole('button', { name: 'History & bill' }).click();
    const sessions = page.locator('table[data-test=sessions]');
    await sessions.locator('tbody tr').first().waitFor();
    const rows = await sessions.locator('tbody tr').allTextContents();
    expect(rows.some((r) => r.includes('lesson') && r.includes('ended by the service'))).toBe(true);
    expect(rows.some((r) => r.includes('wine') && r.includes('€24.50'))).toBe(true);
    const bill = page.locator('table[data-test=bill]');
    const lines = await bill.locator('tbody tr').allTextContents();
    expect(lines.some((l) => l.includes('Château Margaux') && l.includes('€24.50'))).toBe(true);
    expect(lines.some((l) => l.includes('Time:') && l.includes('lesson'))).toBe(true);
    // The bill total is what the relay's bill says.
    const userBill = await stack.relay.relay.accounting.reports.bill('alice@portal.test', (await import('../../server/billing/bill-period.js')).billPeriod(Date.now(), 'monthly'));
    const expected = userBill.totals.map((t) => `€${(t.amount / 100).toFixed(2)}`).join(' + ');
    await expect(bill.locator('[data-test=bill-total]').textContent()).resolves.toBe(expected);
    expect(userBill.totals[0].amount).toBeGreaterThanOrEqual(2450 + 50);
    await screenshot(page, '12-history-and-bill');
    await page.getByRole('button', { name: 'Services' }).click();
  });
});

describe.runIf(browserTests)('errors a person understands', { timeout: 60_000 }, () => {
  it('no such service (a link to a service the relay does not know)', async () => {
    const p = await context.newPage();
    await p.goto(stack.portalUrl + '#open=nosuch');
    await signIn(p, 'alice', 'alice-secret');
    const card = p.locator('[data-state="failed"][data-service="nosuch"]');
    await card.waitFor();
    await expect(card.getAttribute('data-code')).resolves.toBe('no-such-service');
    await expect(card.textContent()).resolves.toContain('No such service');
    await expect(card.textContent()).resolves.toContain('404');
    await screenshot(p, '13-no-such-service');
    await p.close();
  });

  it('service busy: 486 from a full lesson, and a full shop’s 503 (relayed as 500 with Retry-After)', async () => {
    const bob = await helper('bob', 'bob-secret');
    for (let i = 0; i < 20; i++) bob.open('lesson', undefined);
    for (let i = 0; i < 50; i++) bob.open('beer', undefined);
    await until(() => bob.items.filter((x) => x instanceof ServiceSession).length === 70, 30_000);

    await page.locator('li[data-service="lesson"]').getByRole('button', { name: 'Open lesson' }).click();
    const busy = page.locator('[data-state="failed"][data-service="lesson"]');
    await busy.waitFor();
    await expect(busy.getAttribute('data-code')).resolves.toBe('service-busy');
    await expect(busy.textContent()).resolves.toContain('Try again in 60 s');
    await expect(busy.textContent()).resolves.toContain('486');

    await page.locator('li[data-service="beer"]').getByRole('button', { name: 'Open beer' }).click();
    const full = page.locator('[data-state="failed"][data-service="beer"]');
    await full.waitFor();
    await expect(full.getAttribute('data-code')).resolves.toBe('service-busy');
    await expect(full.textContent()).resolves.toContain('Try again in 30 s');
    await screenshot(page, '14-service-busy');
    await bob.signOut();
    await full.getByRole('button', { name: 'Dismiss' }).click();
    await busy.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('no credit: 402 for a priced service when the account cannot pay', async () => {
    const p = await context.newPage();
    await p.goto(stack.portalUrl);
    await signIn(p, 'carol', 'carol-secret');
    await p.locator('li[data-service="lesson"]').getByRole('button', { name: 'Open lesson' }).click();
    const card = p.locator('[data-state="failed"][data-service="lesson"]');
    await card.waitFor();
    await expect(card.getAttribute('data-code')).resolves.toBe('no-credit');
    await expect(card.textContent()).resolves.toContain('Not enough credit');
    await screenshot(p, '15-no-credit');
    // A free service still opens for her.
    await p.getByRole('button', { name: 'Open wine' }).click();
    await pane(p, 'wine').waitFor();
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByRole('heading', { name: 'Sign in' }).waitFor();
    await p.close();
  });

  it('a session the relay ends (here: the operator) closes its pane with the relay’s reason', async () => {
    const p = await context.newPage();
    await p.goto(stack.portalUrl);
    await signIn(p, 'bob', 'bob-secret');
    await p.getByRole('button', { name: 'Open wine' }).click();
    await pane(p, 'wine').waitFor();
    const live = await stack.relay.store.sessions.list({ states: ['established'], limit: 50 });
    const id = live.find((s) => s.service === 'wine' && s.userId.startsWith('bob'))!.id;
    const r = await fetch(`${stack.relay.httpUrl}/admin/v1/sessions/${id}/end`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'maintenance at noon' }),
    });
    expect(r.status).toBeLessThan(300);
    const ended = pane(p, 'wine', 'ended');
    await ended.waitFor();
    await expect(ended.getAttribute('data-state')).resolves.toBe('ended');
    await expect(ended.locator('[data-test=end-reason]').textContent()).resolves.toContain('The relay ended the session: the operator ended it: maintenance at noon.');
    await expect(ended.locator('.ended').getAttribute('data-ended-by')).resolves.toBe('relay');
    await screenshot(p, '16b-ended-by-relay');
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.close();
  });

  it('relay unreachable: the WebSocket cannot be opened', async () => {
    const p = await context.newPage();
    await p.routeWebSocket(/\/sip$/, (ws) => ws.close({ code: 1011, reason: 'unreachable' }));
    await p.goto(stack.portalUrl);
    await signIn(p, 'alice', 'alice-secret');
    const alert = p.getByRole('alert');
    await expect(alert.textContent()).resolves.toContain('Relay unreachable');
    await expect(alert.getAttribute('data-code')).resolves.toBe('relay-unreachable');
    await screenshot(p, '16-relay-unreachable');
    await p.close();
  });
});

describe.runIf(browserTests)('reconnection', { timeout: 60_000 }, () => {
  it('reconnects after the WebSocket drops, registers again, and the live session carries on over the new connection', async () => {
    const p = await context.newPage();
    const sockets: Array<{ close: () => Promise<void> }> = [];
    // Playwright stands between page and relay; closing both sides is a dropped network.
    await p.routeWebSocket(/\/sip$/, (ws) => {
      const server = ws.connectToServer();
      sockets.push({
        close: async () => {
          await server.close({ code: 4001, reason: 'network dropped' });
          await ws.close({ code: 4001, reason: 'network dropped' });
        },
      });
    });
    await p.goto(stack.portalUrl);
    await signIn(p, 'bob', 'bob-secret');
    await p.getByRole('button', { name: 'Open beer' }).click();
    await pane(p, 'beer').waitFor();
    const registrations = () => stack.relay.relay.location.lookup('bob@portal.test');
    expect(await registrations()).toHaveLength(1);

    await sockets[0].close();
    await p.getByText('Connection to the relay lost.').waitFor();
    await screenshot(p, '17-reconnecting');
    const banner = p.locator('siprelay-connection-banner p[data-state="online"]');
    await banner.waitFor({ timeout: 20_000 });
    await expect(banner.textContent()).resolves.toContain('Reconnected; your session is still open.');
    // The relay re-bound the session to the new connection: it is still live both ways.
    const live = stack.relay.relay.core.liveDialogs().filter((d) => d.service === 'beer' && d.party.username === 'bob');
    expect(live).toHaveLength(1);
    // Registered again over the new connection, and new sessions work.
    const bindings = await registrations();
    expect(bindings).toHaveLength(1);
    await p.getByRole('button', { name: 'Open wine' }).click();
    await pane(p, 'wine').waitFor();
    await screenshot(p, '18-reconnected');
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.close();
  });
});

describe.runIf(browserTests)('keyboard and phone', { timeout: 60_000 }, () => {
  it('can be used by keyboard alone: focus order, visible focus, real buttons', async () => {
    const p = await context.newPage();
    await p.goto(stack.portalUrl);
    // The username field has focus on arrival.
    expect((await focused(p)).tag).toBe('input');
    await p.keyboard.type('alice');
    await p.keyboard.press('Tab');
    await p.keyboard.type('alice-secret');
    await p.keyboard.press('Enter');
    await p.getByText('sip:alice@portal.test').waitFor();
    // Tab from the start of the content to the first "Open" button; every stop is a real control with a focus ring.
    const stops: string[] = [];
    for (let i = 0; i < 12; i++) {
      await p.keyboard.press('Tab');
      const f = await focused(p);
      expect(['button', 'input', 'select', 'a']).toContain(f.tag);
      expect(f.outline).not.toMatch(/^none/);
      stops.push(`${f.tag}:${f.text}`);
      if (f.text === 'Open wine') break;
    }
    expect(stops.at(-1)).toBe('button:Open wine');
    await screenshot(p, '19-keyboard-focus');
    await p.keyboard.press('Enter');
    await pane(p, 'wine').waitFor();
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.close();
  });

  it('is readable on a phone-sized screen: one column, no sideways scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const p = await phone.newPage();
    await p.goto(stack.portalUrl);
    await signIn(p, 'alice', 'alice-secret');
    await p.getByRole('button', { name: 'Open wine' }).click();
    await pane(p, 'wine').waitFor();
    const layout = await p.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    expect(layout.scroll).toBeLessThanOrEqual(layout.width);
    const catalogue = await p.locator('siprelay-service-catalogue').boundingBox();
    const board = await p.locator('siprelay-session-board').boundingBox();
    expect(board!.y).toBeGreaterThan(catalogue!.y + catalogue!.height - 1);
    expect(board!.width).toBeLessThanOrEqual(390);
    await screenshot(p, '20-phone');
    await p.getByRole('button', { name: 'Sign out' }).click();
    await phone.close();
  });
});

describe.runIf(browserTests)('the demo shops without the portal', { timeout: 30_000 }, () => {
  it('refuse a direct visit with a page that sends the user to the portal', async () => {
    // A fresh browser: no token in the URL and no token cookie from an earlier visit through the portal.
    const stranger = await browser.newContext();
    const p = await stranger.newPage();
    const response = await p.goto(stack.demo.apps.wineshop!.url + '/');
    expect(response?.status()).toBe(401);
    await expect(p.textContent('body')).resolves.toContain('Open this service through the portal');
    const link = p.getByRole('link', { name: /portal/i }).first();
    await expect(link.getAttribute('href')).resolves.toBe(stack.portalUrl);
    await screenshot(p, '21-refusal-page');
    await stranger.close();
  });
});
