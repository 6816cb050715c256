import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PortalClient } from '../../web-client/src/model/portal-client.js';
import { ServiceSession } from '../../web-client/src/model/service-session.js';
import { buildPortal } from './support/build-portal.js';
import { chromiumAvailable, launchChromium, screenshot } from './support/chromium.js';
import { startPortalStack, type PortalStack } from './support/portal-stack.js';

/**
 * The operator console (/console.html) in Chromium against the real relay:
 * the admin token typed in, live sessions with running timers, charges as
 * they arrive, application servers and their targets' health, bills and
 * settlements.
 */

const ADMIN_TOKEN = 'test-admin-token-0123456789';
let stack: PortalStack;
let portalDir: string;
let browser: Browser;
let page: Page;
let alice: PortalClient;

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
  stack = await startPortalStack({ portalDir });
  // A user with two live sessions, one of them charged.
  alice = new PortalClient({ wsUrl: stack.relay.wsUrl, httpBase: stack.relay.httpUrl, domain: 'portal.test', WebSocket: WebSocket as never, reconnect: false });
  expect(await alice.signIn('alice', 'alice-secret')).toBe(true);
  alice.open('wine', { category: 'wine' });
  alice.open('lesson', undefined);
  await until(() => alice.items.filter((i) => i instanceof ServiceSession).length === 2);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await alice?.signOut();
  await browser?.close();
  await stack?.stop();
  if (portalDir) rmSync(portalDir, { recursive: true, force: true });
});

describe.runIf(browserTests)('the operator console', { timeout: 60_000 }, () => {
  it('refuses a wrong admin token and says why', async () => {
    await page.goto(stack.portalUrl + 'console.html');
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Open the console' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not the admin token');
  });

  it('shows live sessions with running timers, and charges as they arrive', async () => {
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Open the console' }).click();
    const table = page.locator('table[data-test=live-sessions]');
    await table.locator('tbody tr[data-session]').nth(1).waitFor();
    const rows = await table.locator('tbody tr').allTextContents();
    expect(rows.some((r) => r.includes('alice@portal.test') && r.includes('wine') && r.includes('wineshop'))).toBe(true);
    expect(rows.some((r) => r.includes('lesson'))).toBe(true);
    const timer = table.locator('tr', { hasText: 'lesson' }).locator('[role=timer]');
    const t1 = await timer.textContent();
    await page.waitForTimeout(2100);
    expect(await timer.textContent()).not.toBe(t1);

    // A charge in the wine shop shows up at the next poll.
    const wine = alice.items.find((i): i is ServiceSession => i instanceof ServiceSession && i.service === 'wine')!;
    const url = new URL(wine.descriptor!.url);
    const post = (path: string, body?: unknown) =>
      fetch(`${url.origin}${path}?token=${url.searchParams.get('token')}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    await post('/basket', { sku: 'W-CHA-21' });
    await post('/buy');
    const feed = page.locator('[data-test=charge-feed]');
    await feed.waitFor();
    await expect(feed.textContent()).resolves.toContain('Chablis Premier Cru 2021');
    await expect(table.locator('tr', { hasText: 'wine' }).textContent()).resolves.toContain('€28.90');
    await screenshot(page, '40-console-live');
  });

  it('shows the application servers and the health of their targets', async () => {
    await page.getByRole('button', { name: 'Application servers' }).click();
    const targets = page.locator('table[data-test=targets]');
    await targets.locator('tbody tr[data-target]').nth(4).waitFor();
    const rows = await targets.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(5);
    for (const name of ['wineshop', 'beershop', 'bookstore-a', 'bookstore-b', 'lesson']) expect(rows.some((r) => r.includes(name) && r.includes('up'))).toBe(true);
    await screenshot(page, '41-console-servers');
  });

  it('shows a user’s bill and an operator’s settlement', async () => {
    await page.getByRole('button', { name: 'Bills & settlements' }).click();
    await page.locator('table[data-test=accounts] tbody tr').first().waitFor();
    await page.getByLabel('User’s bill').selectOption('alice@portal.test');
    await page.getByLabel('Operator’s settlement').selectOption('wineshop');
    await page.getByRole('button', { name: 'Show' }).click();
    const bill = page.locator('table[data-test=admin-bill]');
    await bill.waitFor();
    await expect(bill.textContent()).resolves.toContain('Chablis Premier Cru 2021');
    const settlement = page.locator('table[data-test=settlement]');
    await settlement.locator('tbody tr').first().waitFor();
    await expect(settlement.locator('tbody tr').first().textContent()).resolves.toContain('€28.90');
    await screenshot(page, '42-console-billing');
  });
});
