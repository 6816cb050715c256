import express, { type Request, type Response } from 'express';
import { isAppServerError } from '../appserver/app-server-error.js';
import type { AppSession, SessionEnd } from '../appserver/app-session.js';
import type { RelayUser } from '../appserver/relay-token-verifier.js';
import { done, type DemoAppContext } from './demo-app-context.js';
import { demoPage, type DemoBrand } from './demo-page.js';
import { formatMoney } from './format-money.js';
import { html, raw } from './safe-html.js';
import { sessionNotOpen } from './session-not-open.js';

/**
 * The lesson's brand.
 *
 * @example
 * ```ts
 * LESSON_BRAND.name; // 'Tasting School'
 * ```
 */
export const LESSON_BRAND: DemoBrand = { name: 'Tasting School', tagline: 'Video lessons, billed by the minute by your portal', accent: '#7a4b1e', mark: 'T' };

/** A tariff as the relay's catalogue (`GET /api/v1/services`) gives it. */
interface CatalogueTariff {
  currency: string;
  setupFee?: number;
  pricePerMinute: number;
  increments?: { first: number; next: number };
  freeSeconds?: number;
  minimumBillableSeconds?: number;
  description?: string;
}

/** The slides of the lesson "video": one every 20 seconds, round and round. */
const SLIDES = [
  { title: 'Look', text: 'Tilt the glass against something white. Deep garnet means age; purple means youth.' },
  { title: 'Swirl', text: 'Air opens the wine. Slow circles, and watch the legs run down the glass.' },
  { title: 'Smell', text: 'Fruit first, then flowers, spice, wood. Name three things you smell.' },
  { title: 'Taste', text: 'A small sip, kept in the mouth. Sweet, sour, bitter — and how long it lasts.' },
  { title: 'Pair', text: 'Acid loves fat, tannin loves protein. Try the Rioja with something grilled.' },
];

interface LessonVisit {
  readonly sessionId: string;
  readonly user: RelayUser;
  readonly session: AppSession;
  readonly topic: string;
  startedAt: number | undefined;
  endedAt: number | undefined;
  version: number;
  notice: { kind: 'ok' | 'error'; text: string } | undefined;
  ended: SessionEnd | undefined;
}

const KEEP_ENDED_MS = 10 * 60_000;

/**
 * Mounts the video lesson: service `lesson`, billed by the relay for its
 * time (no item charges), a page with an animated "video", the time since
 * the session started and the tariff (from the relay's service catalogue),
 * and a button that hands the user over to the wine shop by REFER
 * (`session.transfer('wine')`, design brief flow 8), ending the lesson once
 * the shop has taken over.
 *
 * @example
 * ```ts
 * mountLessonApp({ appServer, web, publicUrl: () => 'http://localhost:8085', relayHttpUrl: 'http://127.0.0.1:8080', logger });
 * ```
 */
export function mountLessonApp(ctx: DemoAppContext): void {
  const { appServer, web } = ctx;
  const visits = new Map<string, LessonVisit>();
  let tariff: { value: CatalogueTariff | null; at: number } | undefined;

  const loadTariff = async (): Promise<CatalogueTariff | null> => {
    if (tariff && Date.now() - tariff.at < 60_000) return tariff.value;
    if (!ctx.relayHttpUrl) return null;
    try {
      const r = await fetch(`${ctx.relayHttpUrl}/api/v1/services`, { signal: AbortSignal.timeout(2000), headers: { accept: 'application/json' } });
      const body = (await r.json()) as { services?: Array<{ name: string; tariff: CatalogueTariff | null }> };
      const value = body.services?.find((s) => s.name === 'lesson')?.tariff ?? null;
      tariff = { value, at: Date.now() };
      return value;
    } catch (e) {
      ctx.logger.debug({ err: e }, 'lesson: service catalogue not reachable');
      return tariff?.value ?? null;
    }
  };

  appServer.invite('lesson', { maxSessions: 20, whenFull: 486, retryAfter: 60 }, (req, res) => {
    const topic = typeof req.details.topic === 'string' && req.details.topic.trim() ? req.details.topic.trim().slice(0, 120) : 'Wine tasting: the basics';
    const session = res.accept({
      url: `${ctx.publicUrl()}/?token=${encodeURIComponent(req.token)}`,
      title: `${LESSON_BRAND.name} — ${topic}`,
      description: 'A video lesson billed by the minute',
      topic,
    });
    const visit: LessonVisit = { sessionId: req.sessionId, user: req.user, session, topic, startedAt: undefined, endedAt: undefined, version: 1, notice: undefined, ended: undefined };
    visits.set(visit.sessionId, visit);
    session.on('started', ({ at }) => {
      visit.startedAt = at;
      visit.version++;
    });
    session.on('ended', (end) => {
      visit.ended = end;
      visit.endedAt = Date.now();
      visit.version++;
      setTimeout(() => visits.delete(visit.sessionId), KEEP_ENDED_MS).unref();
    });
  });

  web.use(express.urlencoded({ extended: false, limit: '4kb' }), express.json({ limit: '4kb' }));
  web.use(appServer.middleware({ portalUrl: ctx.portalUrl, serviceName: LESSON_BRAND.name }));

  const visitOf = (req: Request, res: Response): LessonVisit | undefined => {
    const visit = visits.get(req.siprelay!.sessionId);
    if (!visit) sessionNotOpen(req, res, LESSON_BRAND);
    return visit;
  };

  web.get('/', async (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    const notice = visit.notice;
    visit.notice = undefined;
    res.type('html').send(lessonPage(visit, req.siprelay!.token, notice, await loadTariff()));
  });

  web.get('/api/state', (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    res.json({
      version: visit.version,
      topic: visit.topic,
      startedAt: visit.startedAt ?? null,
      elapsedMs: elapsedMs(visit),
      ended: visit.ended ?? null,
    });
  });

  web.post('/transfer', async (req, res) => {
    const visit = visitOf(req, res);
    if (!visit) return;
    try {
      const result = await visit.session.transfer('wine', { category: 'wine', from: 'lesson', topic: visit.topic }, { endOnSuccess: true });
      visit.notice = { kind: 'ok', text: 'The wine shop has taken over — enjoy!' };
      visit.version++;
      done(req, res, 200, { transferred: true, status: result.status ?? null });
    } catch (e) {
      const text = isAppServerError(e) && e.status ? `The wine shop could not be opened (${e.status}${e.reason ? ` ${e.reason}` : ''}).` : 'The wine shop could not be opened.';
      visit.notice = { kind: 'error', text };
      done(req, res, isAppServerError(e) ? e.httpStatus : 500, { error: { code: isAppServerError(e) ? e.code : 'ERROR', message: text } });
    }
  });
}

/** Time since the ACK, frozen at the end; 0 before the ACK. */
function elapsedMs(visit: LessonVisit): number {
  return visit.startedAt === undefined ? 0 : (visit.endedAt ?? Date.now()) - visit.startedAt;
}

/** "€1.20 per minute · billed in 60 s steps · first 30 s free · €0.50 per lesson". */
function describeTariff(t: CatalogueTariff | null): string {
  if (!t) return 'Billed by the minute by your portal.';
  const parts = [`${formatMoney(t.pricePerMinute, t.currency)} per minute`];
  if (t.increments) parts.push(t.increments.first === t.increments.next ? `billed in ${t.increments.next} s steps` : `billed ${t.increments.first} s first, then in ${t.increments.next} s steps`);
  if (t.freeSeconds) parts.push(`first ${t.freeSeconds} s free`);
  if (t.minimumBillableSeconds) parts.push(`at least ${t.minimumBillableSeconds} s`);
  if (t.setupFee) parts.push(`${formatMoney(t.setupFee, t.currency)} per lesson`);
  return parts.join(' · ');
}

const VIDEO_STYLE = `
  .screen { position: relative; aspect-ratio: 16 / 9; border-radius: 10px; overflow: hidden; background: radial-gradient(circle at 30% 30%, #3b2414, #120a05); color: #f6ead8; }
  .screen .glass { position: absolute; right: 8%; bottom: 12%; width: 18%; animation: sway 6s ease-in-out infinite; transform-origin: 50% 100%; }
  .screen .slide { position: absolute; left: 7%; top: 14%; width: 60%; }
  .screen .slide h3 { font-size: 2rem; margin: 0 0 .5rem; letter-spacing: .02em; }
  .screen .slide p { font-size: 1.05rem; opacity: .9; }
  .screen .live { position: absolute; left: 1rem; bottom: 1rem; font-size: .8rem; background: #c0392b; color: #fff; padding: .1rem .5rem; border-radius: 4px; animation: blink 2s infinite; }
  .screen .bar { position: absolute; left: 0; bottom: 0; height: 4px; background: var(--accent); width: 0; }
  @keyframes sway { 0%, 100% { transform: rotate(-4deg); } 50% { transform: rotate(4deg); } }
  @keyframes blink { 50% { opacity: .4; } }
  .clock { font-size: 2rem; font-variant-numeric: tabular-nums; font-weight: 600; }
`;

function lessonPage(visit: LessonVisit, token: string, notice: LessonVisit['notice'], tariff: CatalogueTariff | null): string {
  const t = encodeURIComponent(token);
  const closed = visit.ended !== undefined;
  const elapsedAtRender = elapsedMs(visit);
  const endedAt = closed ? elapsedAtRender : null;
  const body = html`
    <style>${raw(VIDEO_STYLE)}</style>
    ${closed ? html`<div class="ended" role="status" data-test="ended">The lesson has ended${visit.ended!.reason === 'transferred' ? ': you went on to the wine shop' : ''}.</div>` : ''}
    <div class="screen card" aria-label="Lesson video">
      <div class="slide" id="slide"><h3>${SLIDES[0].title}</h3><p>${SLIDES[0].text}</p></div>
      <svg class="glass" viewBox="0 0 60 120" aria-hidden="true">
        <path d="M10 5 H50 Q52 45 30 60 Q8 45 10 5 Z" fill="#7b1e2b" stroke="#f6ead8" stroke-width="2"/>
        <rect x="28" y="60" width="4" height="45" fill="#f6ead8"/><rect x="14" y="105" width="32" height="4" rx="2" fill="#f6ead8"/>
      </svg>
      ${closed ? '' : html`<span class="live">LIVE</span>`}
      <div class="bar" id="bar"></div>
    </div>
    <div class="row card">
      <div><div class="detail">Time in this lesson</div><div class="clock" id="clock" data-test="elapsed">0:00</div></div>
      <div><div class="detail">Tariff</div><div data-test="tariff">${describeTariff(tariff)}</div>${tariff?.description ? html`<div class="detail">${tariff.description}</div>` : ''}</div>
    </div>
    <div class="card">
      <p>Liked the Rioja in this lesson? The wine shop has it.</p>
      <form class="inline" method="post" action="/transfer?token=${t}"><button ${closed ? 'disabled' : ''} data-test="transfer">Continue in the wine shop</button></form>
      <p class="detail">The portal opens the shop for you and ends the lesson, so its clock stops.</p>
    </div>
    <script>
(() => {
  const slides = ${raw(JSON.stringify(SLIDES))};
  const started = Date.now() - ${raw(String(elapsedAtRender))};
  const frozen = ${raw(JSON.stringify(endedAt))};
  const clock = document.getElementById('clock'), slide = document.getElementById('slide'), bar = document.getElementById('bar');
  const tick = () => {
    const ms = frozen ?? Date.now() - started;
    const s = Math.floor(ms / 1000);
    clock.textContent = Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
    const i = Math.floor(s / 20) % slides.length;
    slide.innerHTML = '<h3></h3><p></p>';
    slide.firstChild.textContent = slides[i].title;
    slide.lastChild.textContent = slides[i].text;
    bar.style.width = ((s % 20) / 20 * 100) + '%';
  };
  tick();
  if (frozen === null) setInterval(tick, 1000);
})();
</script>`;
  return demoPage({ brand: LESSON_BRAND, heading: visit.topic, user: visit.user, token, body, notice, version: visit.version });
}
