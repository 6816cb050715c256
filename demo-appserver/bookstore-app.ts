import express, { type Request, type Response } from 'express';
import { isAppServerError } from '../appserver/app-server-error.js';
import type { AppSession, SessionEnd } from '../appserver/app-session.js';
import type { ChargeReceipt } from '../appserver/charge.js';
import type { RelayUser } from '../appserver/relay-token-verifier.js';
import type { ServiceDescriptor } from '../appserver/service-answer.js';
import type { ServiceDetails } from '../appserver/siprelay-media-types.js';
import { done, type DemoAppContext } from './demo-app-context.js';
import { BOOKSTORE_A_BOOKS, BOOKSTORE_B_BOOKS, searchBooks, type Book } from './demo-catalogues.js';
import { demoPage, type DemoBrand } from './demo-page.js';
import { formatMoney } from './format-money.js';
import { html } from './safe-html.js';
import { sessionNotOpen } from './session-not-open.js';

/**
 * What makes one bookstore: brand, catalogue and stock.
 *
 * @example
 * ```ts
 * mountBookstoreApp(ctx, { ...BOOKSTORE_A, maxSessions: 5 });
 * ```
 */
export interface BookstoreConfig {
  readonly brand: DemoBrand;
  readonly books: readonly Book[];
  readonly currency: string;
  readonly maxSessions: number;
}

/**
 * Bookstore A: the bigger one, dearer, well stocked.
 *
 * @example
 * ```ts
 * mountBookstoreApp(ctx, BOOKSTORE_A);
 * ```
 */
export const BOOKSTORE_A: BookstoreConfig = {
  brand: { name: 'Alder Books', tagline: 'A big shop with deep shelves', accent: '#2f5d50', mark: 'A' },
  books: BOOKSTORE_A_BOOKS,
  currency: 'EUR',
  maxSessions: 50,
};

/**
 * Bookstore B: the small one, cheaper, thinner stock.
 *
 * @example
 * ```ts
 * mountBookstoreApp(ctx, BOOKSTORE_B);
 * ```
 */
export const BOOKSTORE_B: BookstoreConfig = {
  brand: { name: 'Birch & Quill', tagline: 'A small shop with good prices', accent: '#34558b', mark: 'B' },
  books: BOOKSTORE_B_BOOKS,
  currency: 'EUR',
  maxSessions: 50,
};

interface BookstoreVisit {
  readonly sessionId: string;
  readonly user: RelayUser;
  readonly session: AppSession;
  query: string;
  readonly purchases: Array<{ receipt: ChargeReceipt; title: string }>;
  version: number;
  notice: { kind: 'ok' | 'error'; text: string } | undefined;
  ended: SessionEnd | undefined;
}

const KEEP_ENDED_MS = 10 * 60_000;

/** The search of a request's details: `query`, `q`, `search` or `isbn`. */
function queryOf(details: ServiceDetails): string {
  for (const k of ['query', 'q', 'search', 'isbn']) {
    const v = details[k];
    if (typeof v === 'string') return v.trim().slice(0, 200);
  }
  return '';
}

/**
 * Mounts a bookstore: service `bookstore`, answered by both bookstores of
 * the demo when the relay forks a request (design brief flow 3), each with
 * its own results, prices and stock for the same search — the portal shows
 * the two answers side by side. A new search from the portal (re-INVITE or
 * UPDATE with a new `query`) updates the page; buying a book charges it by
 * INFO and takes one copy off the shelf.
 *
 * @example
 * ```ts
 * mountBookstoreApp({ appServer, web, publicUrl: () => 'http://localhost:8083', logger }, BOOKSTORE_A);
 * ```
 */
export function mountBookstoreApp(ctx: DemoAppContext, config: BookstoreConfig): void {
  const { appServer, web } = ctx;
  const visits = new Map<string, BookstoreVisit>();
  const stock = new Map(config.books.map((b) => [b.isbn, b.stock]));
  const money = (m: number) => formatMoney(m, config.currency);

  const descriptor = (query: string, token: string): ServiceDescriptor => {
    const hits = searchBooks(config.books, query);
    const available = hits.filter((b) => (stock.get(b.isbn) ?? 0) > 0);
    const cheapest = [...available].sort((a, b) => a.price - b.price)[0];
    return {
      url: `${ctx.publicUrl()}/?token=${encodeURIComponent(token)}`,
      title: `${config.brand.name} — ${hits.length} ${hits.length === 1 ? 'book' : 'books'}${query ? ` for “${query}”` : ''}`,
      description: cheapest ? `${available.length} in stock, from ${money(cheapest.price)}` : 'nothing in stock for this search',
      store: config.brand.name,
      query,
      results: hits.length,
      inStock: available.length,
      cheapest: cheapest ? { title: cheapest.title, price: cheapest.price, currency: config.currency } : null,
    };
  };

  appServer.invite('bookstore', { maxSessions: config.maxSessions, whenFull: 503, retryAfter: 30 }, (req, res) => {
    const query = queryOf(req.details);
    const session = res.accept(descriptor(query, req.token));
    const visit: BookstoreVisit = { sessionId: req.sessionId, user: req.user, session, query, purchases: [], version: 1, notice: undefined, ended: undefined };
    visits.set(visit.sessionId, visit);
    session.on('changed', (change) => {
      visit.query = queryOf(change.details);
      visit.version++;
      change.accept(descriptor(visit.query, session.token));
    });
    session.on('ended', (end) => {
      visit.ended = end;
      visit.version++;
      setTimeout(() => visits.delete(visit.sessionId), KEEP_ENDED_MS).unref();
    });
  });

  web.use(express.urlencoded({ extended: false, limit: '16kb' }), express.json({ limit: '16kb' }));
  web.use(appServer.middleware({ portalUrl: ctx.portalUrl, serviceName: config.brand.name }));

  const visitOf = (req: Request, res: Response): BookstoreVisit | undefined => {
    const visit = visits.get(req.siprelay!.sessionId);
    if (!visit) sessionNotOpen(req, res, config.brand);
    return visit;
  };

  web.get('/', (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    if (typeof req.query.q === 'string') visit.query = req.query.q.trim().slice(0, 200);
    const notice = visit.notice;
    visit.notice = undefined;
    res.type('html').send(bookstorePage(config, visit, req.siprelay!.token, notice, stock));
  });

  web.get('/api/state', (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    const results = searchBooks(config.books, visit.query).map((b) => ({ ...b, stock: stock.get(b.isbn) ?? 0 }));
    res.json({ version: visit.version, query: visit.query, results, purchases: visit.purchases.map((p) => ({ id: p.receipt.id, title: p.title })), ended: visit.ended ?? null });
  });

  web.post('/buy', async (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    const book = config.books.find((b) => b.isbn === req.body?.isbn);
    if (!book) return void res.status(400).json({ error: { code: 'UNKNOWN_BOOK', message: 'no such book here' } });
    if ((stock.get(book.isbn) ?? 0) < 1) {
      visit.notice = { kind: 'error', text: `“${book.title}” is out of stock.` };
      return done(req, res, 409, { error: { code: 'OUT_OF_STOCK', message: `${book.title} is out of stock` } });
    }
    // Take the copy off the shelf first, so two buyers cannot get the last one.
    stock.set(book.isbn, (stock.get(book.isbn) ?? 1) - 1);
    try {
      const receipt = await visit.session.charge([{ sku: book.isbn, description: `${book.title} — ${book.author}`, unitPrice: book.price, quantity: 1, currency: config.currency }]);
      visit.purchases.push({ receipt, title: book.title });
      visit.notice = { kind: 'ok', text: `Bought “${book.title}” for ${money(book.price)} — charged to your portal account.` };
      visit.version++;
      done(req, res, 200, { receipt });
    } catch (e) {
      stock.set(book.isbn, (stock.get(book.isbn) ?? 0) + 1);
      const text = isAppServerError(e) && e.code === 'APPSERVER_ERR_CHARGE_REFUSED' ? `The portal refused the charge: ${e.status} ${e.reason ?? ''}`.trim() : 'The purchase could not be completed; nothing was charged.';
      visit.notice = { kind: 'error', text };
      done(req, res, isAppServerError(e) ? e.httpStatus : 500, { error: { code: isAppServerError(e) ? e.code : 'ERROR', message: text } });
    }
  });
}

function bookstorePage(config: BookstoreConfig, visit: BookstoreVisit, token: string, notice: BookstoreVisit['notice'], stock: Map<string, number>): string {
  const t = encodeURIComponent(token);
  const money = (m: number) => formatMoney(m, config.currency);
  const closed = visit.ended !== undefined;
  const hits = searchBooks(config.books, visit.query);
  const rows = hits.map((b) => {
    const left = stock.get(b.isbn) ?? 0;
    return html`<tr data-test="book">
      <td><strong>${b.title}</strong><div class="detail">${b.author}, ${b.year} · ISBN ${b.isbn}</div></td>
      <td class="num">${money(b.price)}</td>
      <td class="num">${left > 0 ? `${left} in stock` : html`<span class="detail">out of stock</span>`}</td>
      <td class="num"><form class="inline" method="post" action="/buy?token=${t}"><input type="hidden" name="isbn" value="${b.isbn}"><button ${left < 1 || closed ? 'disabled' : ''}>Buy</button></form></td>
    </tr>`;
  });
  const bought = visit.purchases.map((p) => html`<tr><td>${p.title}<div class="detail">receipt ${p.receipt.id}</div></td><td class="num">${money(p.receipt.total.amount)}</td></tr>`);
  const body = html`
    ${closed ? html`<div class="ended" role="status" data-test="ended">This visit has ended.</div>` : ''}
    <form class="row card" method="get" action="/">
      <input type="hidden" name="token" value="${token}">
      <input type="search" name="q" value="${visit.query}" placeholder="Title, author or ISBN" aria-label="Search">
      <button>Search</button>
    </form>
    <div class="card">
      ${rows.length ? html`<table><thead><tr><th>Book</th><th class="num">Price</th><th class="num">Stock</th><th></th></tr></thead><tbody data-test="results">${rows}</tbody></table>` : html`<p data-test="no-results">No book here matches “${visit.query}”.</p>`}
    </div>
    <h2>Charged to your portal account</h2>
    <div class="card">${bought.length ? html`<table><tbody data-test="charges">${bought}</tbody></table>` : html`<p class="detail">Nothing yet.</p>`}</div>`;
  return demoPage({
    brand: config.brand,
    heading: visit.query ? `Results for “${visit.query}”` : 'All our books',
    user: visit.user,
    token,
    body,
    notice,
    version: visit.version,
  });
}
