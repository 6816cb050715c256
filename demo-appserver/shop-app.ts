import express, { type Request, type Response } from 'express';
import { isAppServerError } from '../appserver/app-server-error.js';
import type { AppSession, SessionEnd } from '../appserver/app-session.js';
import type { ChargeItemInput, ChargeReceipt } from '../appserver/charge.js';
import type { RelayUser } from '../appserver/relay-token-verifier.js';
import type { ServiceDescriptor } from '../appserver/service-answer.js';
import { done, type DemoAppContext } from './demo-app-context.js';
import { BEER_SHOP_SHELVES, WINE_SHOP_SHELVES, type Article, type DrinkCategory } from './demo-catalogues.js';
import { demoPage, type DemoBrand } from './demo-page.js';
import { formatMoney } from './format-money.js';
import { html } from './safe-html.js';
import { sessionNotOpen } from './session-not-open.js';

/**
 * What makes one shop: its brand, its service, its shelves.
 *
 * @example
 * ```ts
 * mountShopApp(ctx, { ...WINE_SHOP, maxSessions: 5 });
 * ```
 */
export interface ShopConfig {
  readonly brand: DemoBrand;
  /** The service it answers: `wine` or `beer`. */
  readonly service: string;
  /** The category a session opens on when the client names none. */
  readonly defaultCategory: DrinkCategory;
  readonly shelves: Readonly<Record<DrinkCategory, readonly Article[]>>;
  readonly currency: string;
  /** Admission control: sessions at once. */
  readonly maxSessions: number;
}

/**
 * The wine shop: service `wine`, mostly wines, a few ciders and lambics
 * under `beer`.
 *
 * @example
 * ```ts
 * mountShopApp(ctx, WINE_SHOP);
 * ```
 */
export const WINE_SHOP: ShopConfig = {
  brand: { name: 'The Wine Cellar', tagline: 'Fine wines, billed by your portal', accent: '#6b2d5c', mark: 'W' },
  service: 'wine',
  defaultCategory: 'wine',
  shelves: WINE_SHOP_SHELVES,
  currency: 'EUR',
  maxSessions: 50,
};

/**
 * The beer shop: service `beer`, mostly beers, a couple of wines.
 *
 * @example
 * ```ts
 * mountShopApp(ctx, BEER_SHOP);
 * ```
 */
export const BEER_SHOP: ShopConfig = {
  brand: { name: 'The Tap Room', tagline: 'Craft beer, billed by your portal', accent: '#b5651d', mark: 'B' },
  service: 'beer',
  defaultCategory: 'beer',
  shelves: BEER_SHOP_SHELVES,
  currency: 'EUR',
  maxSessions: 50,
};

const CATEGORY_NAMES: Record<DrinkCategory, string> = { wine: 'Wines', beer: 'Beers & ciders' };

/** One user's visit to the shop: one SIP session. */
interface ShopVisit {
  readonly sessionId: string;
  readonly user: RelayUser;
  readonly session: AppSession;
  category: DrinkCategory;
  /** sku → quantity. */
  readonly basket: Map<string, number>;
  readonly purchases: Array<{ receipt: ChargeReceipt; lines: string[] }>;
  /** Bumped on every change the page must show; the page polls it. */
  version: number;
  notice: { kind: 'ok' | 'error'; text: string } | undefined;
  ended: SessionEnd | undefined;
}

/** How long a finished visit stays viewable. */
const KEEP_ENDED_MS = 10 * 60_000;

/**
 * Mounts a shop on a demo app: the INVITE route (with admission control),
 * the change route (wine ⇄ beer from the portal, the page follows), and
 * the pages — catalogue, basket, buy (a charge by INFO), buy and leave
 * (charges, then BYE) — every one behind the relay token middleware.
 *
 * @example
 * ```ts
 * const web = express();
 * mountShopApp({ appServer, web, publicUrl: () => 'http://localhost:8081', logger }, WINE_SHOP);
 * ```
 */
export function mountShopApp(ctx: DemoAppContext, config: ShopConfig): void {
  const { appServer, web } = ctx;
  const visits = new Map<string, ShopVisit>();
  const categoryOf = (value: unknown): DrinkCategory | undefined => (value === 'wine' || value === 'beer' ? value : undefined);
  const descriptor = (visit: { category: DrinkCategory }, token: string): ServiceDescriptor => ({
    url: `${ctx.publicUrl()}/?token=${encodeURIComponent(token)}`,
    title: `${config.brand.name} — ${CATEGORY_NAMES[visit.category]}`,
    description: config.brand.tagline,
    category: visit.category,
  });

  appServer.invite(config.service, { maxSessions: config.maxSessions, whenFull: 503, retryAfter: 30 }, (req, res) => {
    const category = categoryOf(req.details.category ?? config.defaultCategory);
    if (!category) return res.reject(404, 'No Such Category');
    const session = res.accept(descriptor({ category }, req.token));
    const visit: ShopVisit = {
      sessionId: req.sessionId,
      user: req.user,
      session,
      category,
      basket: new Map(),
      purchases: [],
      version: 1,
      notice: undefined,
      ended: undefined,
    };
    visits.set(visit.sessionId, visit);
    session.on('changed', (change) => {
      const next = categoryOf(change.details.category);
      if (!next) return change.refuse(488, 'No Such Category');
      visit.category = next;
      visit.version++;
      change.accept(descriptor(visit, session.token));
    });
    session.on('ended', (end) => {
      visit.ended = end;
      visit.version++;
      setTimeout(() => visits.delete(visit.sessionId), KEEP_ENDED_MS).unref();
    });
  });

  web.use(express.urlencoded({ extended: false, limit: '16kb' }), express.json({ limit: '16kb' }));
  web.use(appServer.middleware({ portalUrl: ctx.portalUrl, serviceName: config.brand.name }));

  const visitOf = (req: Request, res: Response): ShopVisit | undefined => {
    const visit = visits.get(req.siprelay!.sessionId);
    if (!visit) sessionNotOpen(req, res, config.brand);
    return visit;
  };
  const article = (sku: unknown): Article | undefined => {
    for (const list of Object.values(config.shelves)) for (const a of list) if (a.sku === sku) return a;
    return undefined;
  };
  const lines = (visit: ShopVisit): ChargeItemInput[] =>
    [...visit.basket].map(([sku, quantity]) => {
      const a = article(sku)!;
      return { sku, description: `${a.name} (${a.detail})`, unitPrice: a.price, quantity, currency: config.currency };
    });

  web.get('/', (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    const notice = visit.notice;
    visit.notice = undefined;
    res.type('html').send(shopPage(config, visit, req.siprelay!.token, notice, article));
  });

  web.get('/api/state', (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    res.json({
      version: visit.version,
      category: visit.category,
      basket: Object.fromEntries(visit.basket),
      purchases: visit.purchases.map((p) => ({ id: p.receipt.id, total: p.receipt.total })),
      ended: visit.ended ?? null,
    });
  });

  web.post('/basket', (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    const a = article(req.body?.sku);
    const quantity = Number(req.body?.quantity ?? 1);
    if (!a || !Number.isInteger(quantity) || quantity < 1 || quantity > 99) return void res.status(400).json({ error: { code: 'BAD_ITEM', message: 'unknown article or quantity' } });
    if (visit.ended) visit.notice = { kind: 'error', text: 'This visit has ended; open the shop again from the portal.' };
    else visit.basket.set(a.sku, Math.min(99, (visit.basket.get(a.sku) ?? 0) + quantity));
    done(req, res, 200, { basket: Object.fromEntries(visit.basket) });
  });

  web.post('/basket/remove', (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    visit.basket.delete(String(req.body?.sku ?? ''));
    done(req, res, 200, { basket: Object.fromEntries(visit.basket) });
  });

  web.post('/buy', async (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    if (visit.basket.size === 0) {
      visit.notice = { kind: 'error', text: 'Your basket is empty.' };
      return done(req, res, 400, { error: { code: 'EMPTY_BASKET', message: 'the basket is empty' } });
    }
    const items = lines(visit);
    try {
      const receipt = await visit.session.charge(items);
      visit.purchases.push({ receipt, lines: items.map((i) => `${i.quantity} × ${i.description}`) });
      visit.basket.clear();
      visit.notice = { kind: 'ok', text: `Paid ${formatMoney(receipt.total.amount, receipt.total.currency)} — charged to your portal account.` };
      visit.version++;
      done(req, res, 200, { receipt });
    } catch (e) {
      const text = chargeProblem(e);
      visit.notice = { kind: 'error', text };
      const status = isAppServerError(e) ? e.httpStatus : 500;
      done(req, res, status === 481 ? 409 : status, { error: { code: isAppServerError(e) ? e.code : 'ERROR', message: text, status: isAppServerError(e) ? e.status : 500 } });
    }
  });

  web.post('/checkout', async (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    const items = lines(visit);
    try {
      await visit.session.end({ charges: items.length ? items : undefined, reason: 'checked out' });
      if (items.length) visit.purchases.push({ receipt: visit.session.receipts[visit.session.receipts.length - 1], lines: items.map((i) => `${i.quantity} × ${i.description}`) });
      visit.basket.clear();
      visit.notice = { kind: 'ok', text: items.length ? 'Paid and done — thank you!' : 'Goodbye!' };
      done(req, res, 200, { ended: true });
    } catch (e) {
      visit.notice = { kind: 'error', text: chargeProblem(e) };
      done(req, res, isAppServerError(e) ? e.httpStatus : 500, { error: { code: isAppServerError(e) ? e.code : 'ERROR', message: chargeProblem(e) } });
    }
  });
}

function chargeProblem(e: unknown): string {
  if (!isAppServerError(e)) return 'Something went wrong; nothing was charged.';
  switch (e.code) {
    case 'APPSERVER_ERR_CHARGE_REFUSED':
      return e.status === 402 ? `Your portal account cannot cover this (${e.reason ?? 'no credit'}).` : `The portal refused the charge: ${e.status} ${e.reason ?? ''}`.trim();
    case 'APPSERVER_ERR_SESSION_ENDED':
      return 'This visit has ended; open the shop again from the portal.';
    default:
      return `The charge could not be confirmed (${e.code}); please try again.`;
  }
}

function shopPage(
  config: ShopConfig,
  visit: ShopVisit,
  token: string,
  notice: ShopVisit['notice'],
  article: (sku: string) => Article | undefined,
): string {
  const t = encodeURIComponent(token);
  const money = (m: number) => formatMoney(m, config.currency);
  const tabs = (Object.keys(CATEGORY_NAMES) as DrinkCategory[]).map(
    (c) => html`<span class="tab ${c === visit.category ? 'on' : ''}" data-test="category-${c}">${CATEGORY_NAMES[c]}</span>`,
  );
  const closed = visit.ended !== undefined;
  const shelf = config.shelves[visit.category].map(
    (a) => html`<tr>
      <td><strong>${a.name}</strong><div class="detail">${a.detail}</div></td>
      <td class="num">${money(a.price)}</td>
      <td class="num"><form class="inline" method="post" action="/basket?token=${t}">
        <input type="hidden" name="sku" value="${a.sku}">
        <input type="number" name="quantity" value="1" min="1" max="99" aria-label="Quantity of ${a.name}">
        <button ${closed ? 'disabled' : ''}>Add</button></form></td>
    </tr>`,
  );
  let total = 0;
  const basket = [...visit.basket].map(([sku, q]) => {
    const a = article(sku)!;
    total += a.price * q;
    return html`<tr><td>${q} × ${a.name}</td><td class="num">${money(a.price * q)}</td>
      <td class="num"><form class="inline" method="post" action="/basket/remove?token=${t}"><input type="hidden" name="sku" value="${sku}"><button class="quiet" ${closed ? 'disabled' : ''}>Remove</button></form></td></tr>`;
  });
  const purchases = visit.purchases.map(
    (p) => html`<tr><td>${p.lines.join(', ')}<div class="detail">receipt ${p.receipt.id}</div></td><td class="num">${money(p.receipt.total.amount)}</td></tr>`,
  );
  const endedNote = visit.ended
    ? html`<div class="ended" role="status" data-test="ended">This visit has ended (${visit.ended.by === 'user' ? 'you left' : visit.ended.by === 'app' ? 'checked out' : `ended by the portal: ${visit.ended.reason}`}).</div>`
    : '';
  const body = html`
    ${endedNote}
    <div class="tabs" aria-label="Category">${tabs}</div>
    <p class="detail">Switch between wine and beer from the portal: this page follows.</p>
    <div class="card"><table>
      <thead><tr><th>${CATEGORY_NAMES[visit.category]}</th><th class="num">Price</th><th class="num"></th></tr></thead>
      <tbody data-test="shelf">${shelf}</tbody></table></div>
    <h2>Your basket</h2>
    <div class="card">
      ${basket.length ? html`<table><tbody data-test="basket">${basket}</tbody></table><p class="total">Total ${money(total)}</p>` : html`<p class="detail">Empty.</p>`}
      <div class="row">
        <form class="inline" method="post" action="/buy?token=${t}"><button ${closed || !basket.length ? 'disabled' : ''}>Buy</button></form>
        <form class="inline" method="post" action="/checkout?token=${t}"><button class="quiet" ${closed ? 'disabled' : ''}>${basket.length ? 'Buy and leave' : 'Leave the shop'}</button></form>
      </div>
    </div>
    <h2>Charged to your portal account</h2>
    <div class="card">${purchases.length ? html`<table><tbody data-test="charges">${purchases}</tbody></table>` : html`<p class="detail">Nothing yet.</p>`}</div>`;
  return demoPage({
    brand: config.brand,
    heading: `Welcome, ${visit.user.displayName ?? visit.user.username}`,
    user: visit.user,
    token,
    body,
    notice,
    version: visit.version,
  });
}
