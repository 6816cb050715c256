/**
 * Rating and bills at scale (issue 4, item 9):
 *
 * - **rating**: `rateSession` called 1 000 000 times on sessions generated
 *   beforehand (fixed-seed PRNG): three tariffs (60/60 with a setup fee and
 *   free time, 30/6, 1/1 with free time and a minimum) plus a plan tariff;
 *   80 % of sessions one segment, 15 % two and 5 % three (changes of
 *   service); durations log-uniform from 1 s to 1 h, a few under 1 s.
 *   Wall and CPU time (`process.cpuUsage`).
 * - **bills**: a store seeded with 10 000 users × 100 ended, rated sessions
 *   in one month (2026-10), their segments and ledger postings, 10 charges
 *   per user (one of them a partial refund) with their postings, and the
 *   users' accounts. Rows are made by the code real closing uses (`rate`
 *   of close-session.ts, `postSession`, `postCharge`) and written with
 *   multi-row INSERTs through the store's Kysely instance, a transaction per
 *   chunk of users; seeding is timed apart from the figure. Then every
 *   user's bill is produced: `store.sessions.usersWithSessions(period)`, and
 *   for each user `BillingReports.bill` and `billToCsv` — in sequence, and
 *   on PostgreSQL also 8 at a time. 20 users' bills are checked against the
 *   ledger (`billMatchesLedger`) and every bill's line count against what
 *   was seeded, so the run fails rather than time empty bills.
 *
 *   npx tsx bench/billing-bench.ts [--users 10000] [--sessions-per-user 100]
 *       [--charges-per-user 10] [--rate 1000000] [--store sqlite|postgres|both]
 *
 * SQLite: a temp file, as `openStore` opens it (WAL, synchronous=FULL).
 * PostgreSQL: SIPRELAY_BENCH_POSTGRES_URL (default
 * postgres://postgres@127.0.0.1:5432/test), a scratch schema dropped
 * afterwards; `vacuum analyze` after seeding (what autovacuum would do to
 * freshly loaded tables before a month's bills are run). `--rate 0` skips
 * the rating part, `--users 0` the bills.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { sql, type Insertable, type Kysely } from 'kysely';
import pg from 'pg';
import { BillingReports } from '../server/accounting/billing-reports.js';
import { rate } from '../server/accounting/close-session.js';
import { parseBillPeriod, type BillPeriod } from '../server/billing/bill-period.js';
import { billToCsv, type Bill } from '../server/billing/bill.js';
import { chargeTotal, type Charge } from '../server/billing/charge.js';
import { postCharge, postSession, type LedgerEntry, type RelayFee } from '../server/billing/ledger.js';
import { rateSession, type SessionSegment, type TariffLookup } from '../server/billing/rating.js';
import { parseTariff, type Tariff } from '../server/billing/tariff.js';
import type { AccountsTable, ChargesTable, Database, LedgerEntriesTable, SessionSegmentsTable, SessionsTable } from '../server/store/database.js';
import { openStore, type OpenedStore } from '../server/store/open-store.js';
import type { SessionSegmentRecord } from '../server/store/session-repository.js';
import { writeTransaction } from '../server/store/write-transaction.js';

// ---------------------------------------------------------------- inputs

/** Mulberry32: a small, fast PRNG with a fixed seed, so every run rates and seeds the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The services of the benchmark: tariff (and a plan tariff), application server, operator, relay fee. */
interface BenchService {
  readonly name: string;
  readonly tariff: Tariff;
  readonly studentTariff?: Tariff;
  readonly appServer: string;
  readonly operator: string;
  readonly fee: RelayFee;
}

export const BENCH_SERVICES: readonly BenchService[] = [
  {
    // The demo configuration's lesson tariff (config/demo.yaml): 60/60, setup fee, 30 s free.
    name: 'lesson',
    tariff: parseTariff({ id: 'lesson-standard', currency: 'EUR', setupFee: 50, pricePerMinute: 120, increments: { first: 60, next: 60 }, freeSeconds: 30 }),
    studentTariff: parseTariff({ id: 'lesson-student', currency: 'EUR', pricePerMinute: 60, increments: { first: 60, next: 60 } }),
    appServer: 'lesson-server',
    operator: 'acme',
    fee: { basisPoints: 1000, fixedPerSession: { amount: 5, currency: 'EUR' } },
  },
  {
    name: 'coaching',
    tariff: parseTariff({ id: 'coaching', currency: 'EUR', pricePerMinute: 90, increments: { first: 30, next: 6 } }),
    appServer: 'coach-server',
    operator: 'coachco',
    fee: { basisPoints: 500 },
  },
  {
    name: 'talk',
    tariff: parseTariff({ id: 'talk', currency: 'EUR', pricePerMinute: 30, increments: { first: 1, next: 1 }, freeSeconds: 10, minimumBillableSeconds: 60 }),
    appServer: 'talk-server',
    operator: 'acme',
    fee: { basisPoints: 0 },
  },
];

const SERVICE_BY_NAME = new Map(BENCH_SERVICES.map((s) => [s.name, s]));

function tariffOf(service: string, student: boolean): Tariff {
  const s = SERVICE_BY_NAME.get(service)!;
  return student && s.studentTariff ? s.studentTariff : s.tariff;
}

const standardLookup: TariffLookup = (service) => tariffOf(service, false);
const studentLookup: TariffLookup = (service) => tariffOf(service, true);

/** One generated session: its services and where its segments start, in ms from its start. */
interface SessionShape {
  readonly durationMs: number;
  /** First entry is the service the session was established for, at offset 0. */
  readonly segments: readonly { readonly service: string; readonly offsetMs: number }[];
}

/** 50 % lesson, 30 % coaching, 20 % talk; 80/15/5 % one/two/three segments; 1 s – 1 h log-uniform, 2 % under 1 s. */
function sessionShape(random: () => number): SessionShape {
  const durationMs = random() < 0.02 ? Math.floor(random() * 1000) : Math.round(1000 * Math.exp(random() * Math.log(3600)));
  const pick = (not?: string): string => {
    for (;;) {
      const r = random();
      const name = r < 0.5 ? 'lesson' : r < 0.8 ? 'coaching' : 'talk';
      if (name !== not) return name;
    }
  };
  const r = random();
  const count = r < 0.8 ? 1 : r < 0.95 ? 2 : 3;
  const offsets = [0];
  for (let i = 1; i < count; i++) offsets.push(Math.floor(random() * durationMs));
  offsets.sort((a, b) => a - b);
  const segments: { service: string; offsetMs: number }[] = [];
  for (const offsetMs of offsets) segments.push({ service: pick(segments.at(-1)?.service), offsetMs });
  return { durationMs, segments };
}

/** What `rateSession` is called with. */
export interface RatingInput {
  readonly tariffs: TariffLookup;
  readonly segments: readonly SessionSegment[];
}

/** `n` rating inputs from the PRNG seeded with `seed`; 1 in 10 sessions is on the student plan. */
export function makeRatingInputs(n: number, seed = 1): RatingInput[] {
  const random = prng(seed);
  const base = Date.UTC(2026, 9, 1);
  const out: RatingInput[] = new Array<RatingInput>(n);
  for (let i = 0; i < n; i++) {
    const shape = sessionShape(random);
    const start = base + Math.floor(random() * 30 * 86_400_000);
    const segments = shape.segments.map((s, j) => ({
      service: s.service,
      startMs: start + s.offsetMs,
      endMs: start + (j + 1 < shape.segments.length ? shape.segments[j + 1].offsetMs : shape.durationMs),
    }));
    out[i] = { tariffs: random() < 0.1 ? studentLookup : standardLookup, segments };
  }
  return out;
}

/** Rates every input; returns the sum of the totals (minor units) so that nothing is optimised away. */
export function rateAll(inputs: readonly RatingInput[]): number {
  let sum = 0;
  for (let i = 0; i < inputs.length; i++) sum += rateSession(inputs[i].tariffs, inputs[i].segments).total.amount;
  return sum;
}

// ---------------------------------------------------------------- seeding

export interface SeedOptions {
  readonly users: number;
  readonly sessionsPerUser: number;
  readonly chargesPerUser: number;
  /** Default 2026-10. */
  readonly period?: BillPeriod;
  /** Users per transaction. Default 250. */
  readonly usersPerTransaction?: number;
  readonly seed?: number;
  readonly onProgress?: (p: { users: number; sessions: number; charges: number; ledgerEntries: number; elapsedMs: number }) => void;
}

export interface Seeded {
  readonly period: BillPeriod;
  readonly userIds: readonly string[];
  readonly sessions: number;
  readonly segments: number;
  readonly charges: number;
  readonly ledgerEntries: number;
  readonly ms: number;
}

export const BENCH_DOMAIN = 'portal.test';

export function benchUserId(i: number): string {
  return `user${String(i).padStart(5, '0')}@${BENCH_DOMAIN}`;
}

/** Rows per INSERT: SQLite takes at most 32 766 parameters per statement, PostgreSQL 65 535. */
const MAX_PARAMETERS = 30_000;

async function insertRows<T extends keyof Database>(db: Kysely<Database>, table: T, rows: readonly Insertable<Database[T]>[], columns: number): Promise<void> {
  const step = Math.max(1, Math.floor(MAX_PARAMETERS / columns));
  for (let i = 0; i < rows.length; i += step) {
    // Kysely's `values` is typed per table through a conditional type that a
    // generic `T` cannot narrow; the rows are checked against Database[T] above.
    await db.insertInto(table).values(rows.slice(i, i + step) as never).execute();
  }
}

function ledgerRows(entries: readonly LedgerEntry[]): Insertable<LedgerEntriesTable>[] {
  return entries.map((e) => ({
    account: e.account,
    side: e.side,
    amount: e.amount,
    currency: e.currency,
    kind: e.kind,
    ref_type: e.reference.type,
    ref_id: e.reference.id,
    at: e.at,
  }));
}

/**
 * Fills `store` with what bills read: for each user `sessionsPerUser`
 * ended, rated sessions that ended in the period (with their segments and
 * ledger postings, made by the code real closing runs), `chargesPerUser`
 * accepted charges on those sessions (the last a partial refund of the
 * first) with their postings, and the users', operators' and relay's
 * accounts with the balances the postings leave. Expects an empty store.
 */
export async function seedBills(store: OpenedStore, o: SeedOptions): Promise<Seeded> {
  const period = o.period ?? parseBillPeriod('2026-10');
  const random = prng(o.seed ?? 2);
  const perTransaction = o.usersPerTransaction ?? 250;
  const t0 = performance.now();
  const userIds: string[] = [];
  const balances = new Map<string, number>(); // ledger account → debits − credits
  let sessionSeq = 0;
  let chargeId = 0;
  let sessions = 0;
  let segmentCount = 0;
  let charges = 0;
  let ledgerEntries = 0;
  const span = period.end - period.start;

  for (let first = 0; first < o.users; first += perTransaction) {
    const sessionRows: Insertable<SessionsTable>[] = [];
    const segmentRows: Insertable<SessionSegmentsTable>[] = [];
    const chargeRows: Insertable<ChargesTable>[] = [];
    const entries: LedgerEntry[] = [];

    for (let u = first; u < Math.min(o.users, first + perTransaction); u++) {
      const userId = benchUserId(u);
      userIds.push(userId);
      const student = u % 10 === 9;
      const userSessions: { id: string; service: BenchService; startedAt: number; endedAt: number }[] = [];
      for (let k = 0; k < o.sessionsPerUser; k++) {
        const id = (++sessionSeq).toString(16).padStart(32, '0');
        const shape = sessionShape(random);
        const endedAt = period.start + Math.floor(random() * span);
        const startedAt = endedAt - shape.durationMs;
        const service = SERVICE_BY_NAME.get(shape.segments[0].service)!;
        const segs: SessionSegmentRecord[] = shape.segments.map((s, seq) => ({
          seq,
          service: s.service,
          startedAt: startedAt + s.offsetMs,
          offsetMs: s.offsetMs,
          details: seq === 0 ? null : { change: 're-INVITE', service: s.service },
          tariff: tariffOf(s.service, student),
        }));
        const tariff = segs[0].tariff;
        const rated = rate({ service: service.name, tariff }, segs, shape.durationMs)!;
        sessionRows.push({
          id,
          fork_group: id,
          linked_from: null,
          state: 'ended',
          user_id: userId,
          plan: student ? 'student' : null,
          service: service.name,
          app_server: service.appServer,
          operator: service.operator,
          call_id: `bench-${id}@${BENCH_DOMAIN}`,
          caller_tag: `c${id.slice(-8)}`,
          callee_tag: `a${id.slice(-8)}`,
          node_id: 'bench',
          requested_at: startedAt - 500 - Math.floor(random() * 2500),
          answered_at: startedAt - 40 - Math.floor(random() * 200),
          started_at: startedAt,
          ended_at: endedAt,
          duration_ms: shape.durationMs,
          ended_by: random() < 0.6 ? 'caller' : 'callee',
          end_reason: null,
          sip_status: null,
          last_alive_at: endedAt,
          tariff: JSON.stringify(tariff),
          relay_fee: JSON.stringify(service.fee),
          rating: JSON.stringify(rated),
          rating_error: null,
          amount: rated.total.amount,
          currency: rated.total.currency,
          updated_at: endedAt,
        });
        for (const s of segs) {
          segmentRows.push({
            session_id: id,
            seq: s.seq,
            service: s.service,
            started_at: s.startedAt,
            offset_ms: s.offsetMs,
            details: s.details === null ? null : JSON.stringify(s.details),
            tariff: JSON.stringify(s.tariff),
          });
        }
        entries.push(...postSession({ sessionId: id, rated, userId, operatorId: service.operator, fee: service.fee, at: endedAt }));
        userSessions.push({ id, service, startedAt, endedAt });
        sessions += 1;
        segmentCount += segs.length;
      }

      let firstCharge: { charge: Charge; acceptedAt: number; sessionIndex: number } | undefined;
      for (let k = 0; k < o.chargesPerUser; k++) {
        const refund = k === o.chargesPerUser - 1 && firstCharge !== undefined;
        const sessionIndex = refund ? firstCharge!.sessionIndex : Math.floor(random() * userSessions.length);
        const s = userSessions[sessionIndex];
        const from = Math.max(period.start, s.startedAt);
        const acceptedAt = refund ? Math.min(period.end - 1, firstCharge!.acceptedAt + 60_000) : from + Math.floor(random() * (s.endedAt - from + 1));
        const key = `order-${u}-${k}`;
        const charge: Charge = refund
          ? {
              id: key,
              refundOf: firstCharge!.charge.id,
              items: [{ ...firstCharge!.charge.items[0], description: `${firstCharge!.charge.items[0].description} (returned)`, unitPrice: -firstCharge!.charge.items[0].unitPrice, quantity: 1 }],
            }
          : {
              id: key,
              items: [
                { sku: `SKU-${1 + Math.floor(random() * 500)}`, description: 'Course book, 2nd edition', unitPrice: 100 + Math.floor(random() * 4900), quantity: 1 + Math.floor(random() * 3), currency: 'EUR' },
              ],
            };
        if (!refund && firstCharge === undefined) firstCharge = { charge, acceptedAt, sessionIndex };
        const ref = String(++chargeId);
        const total = chargeTotal(charge);
        // Explicit ids (the ledger refers to them); the scratch store gets no other charges.
        chargeRows.push({
          id: chargeId,
          session_id: s.id,
          app_server: s.service.appServer,
          operator: s.service.operator,
          user_id: userId,
          service: s.service.name,
          idempotency_key: key,
          refund_of: charge.refundOf ?? null,
          route: refund ? 'api' : 'info',
          body: JSON.stringify(charge),
          amount: total.amount,
          currency: total.currency,
          accepted_at: acceptedAt,
        });
        entries.push(...postCharge({ chargeRef: ref, charge, userId, operatorId: s.service.operator, fee: s.service.fee, at: acceptedAt }));
        charges += 1;
      }
    }

    for (const e of entries) balances.set(e.account, (balances.get(e.account) ?? 0) + (e.side === 'debit' ? e.amount : -e.amount));
    ledgerEntries += entries.length;
    await writeTransaction(store.db, store.dialect, async (trx) => {
      await insertRows(trx, 'sessions', sessionRows, 29);
      await insertRows(trx, 'session_segments', segmentRows, 7);
      await insertRows(trx, 'charges', chargeRows, 13);
      await insertRows(trx, 'ledger_entries', ledgerRows(entries), 8);
    });
    o.onProgress?.({ users: userIds.length, sessions, charges, ledgerEntries, elapsedMs: performance.now() - t0 });
  }

  // Accounts with the balances the postings left: users postpaid without a practical limit.
  const now = period.end;
  const accountRows: Insertable<AccountsTable>[] = [...balances].map(([account, net]) => {
    const kind = account.startsWith('user:') ? 'user' : account.startsWith('operator:') ? 'operator' : 'relay';
    return {
      account,
      kind,
      owner: account.slice(account.indexOf(':') + 1),
      credit_mode: kind === 'user' ? 'postpaid' : null,
      currency: 'EUR',
      // A user's balance is money paid in (none) less what was posted against them;
      // operators and the relay keep 0 (their earnings are read from the ledger).
      balance: kind === 'user' ? -net : 0,
      credit_limit: kind === 'user' ? Number.MAX_SAFE_INTEGER : null,
      created_at: period.start,
      updated_at: now,
    };
  });
  await writeTransaction(store.db, store.dialect, (trx) => insertRows(trx, 'accounts', accountRows, 9));
  return { period, userIds, sessions, segments: segmentCount, charges, ledgerEntries, ms: performance.now() - t0 };
}

// ---------------------------------------------------------------- bills

export interface BillRun {
  readonly bills: number;
  readonly sessionLines: number;
  readonly chargeLines: number;
  readonly csvBytes: number;
  /** Wall time of the whole run: bills and CSV. */
  readonly wallMs: number;
  /** CPU time of this process over the run (user + system). */
  readonly cpuMs: number;
  /** Sum of the CSV exports' times (part of `wallMs`). */
  readonly csvMs: number;
  /** Time of each `BillingReports.bill` call, sorted. */
  readonly billMs: readonly number[];
}

/** Produces the bill and its CSV of every user, `concurrency` at a time. */
export async function produceBills(reports: BillingReports, userIds: readonly string[], period: BillPeriod, concurrency = 1): Promise<BillRun> {
  const billMs: number[] = new Array<number>(userIds.length);
  let sessionLines = 0;
  let chargeLines = 0;
  let csvBytes = 0;
  let csvMs = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, userIds.length) }, async () => {
      while (next < userIds.length) {
        const i = next++;
        const a = performance.now();
        const bill: Bill = await reports.bill(userIds[i], period);
        const b = performance.now();
        const csv = billToCsv(bill);
        csvMs += performance.now() - b;
        billMs[i] = b - a;
        csvBytes += csv.length;
        for (const l of bill.lines) {
          if (l.kind === 'session') sessionLines += 1;
          else chargeLines += 1;
        }
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  billMs.sort((x, y) => x - y);
  return { bills: userIds.length, sessionLines, chargeLines, csvBytes, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, csvMs, billMs };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Checks `sample` users' bills against the ledger and the seeded counts; throws on a mismatch. */
export async function verifyBills(reports: BillingReports, seeded: Seeded, o: Pick<SeedOptions, 'sessionsPerUser' | 'chargesPerUser'>, sample = 20): Promise<void> {
  const n = seeded.userIds.length;
  for (let j = 0; j < Math.min(sample, n); j++) {
    const user = seeded.userIds[Math.floor((j * n) / Math.min(sample, n))];
    const bill = await reports.bill(user, seeded.period);
    const s = bill.lines.filter((l) => l.kind === 'session').length;
    const c = bill.lines.length - s;
    if (s !== o.sessionsPerUser || c !== o.chargesPerUser) {
      throw new Error(`${user}: ${s} session and ${c} charge lines, expected ${o.sessionsPerUser} and ${o.chargesPerUser}`);
    }
    if (!(await reports.billMatchesLedger(user, seeded.period))) throw new Error(`${user}: the bill does not match the ledger`);
  }
}

// ---------------------------------------------------------------- the run

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function line(label: string, value: string): void {
  console.log(`  ${label.padEnd(44)} ${value}`);
}

function benchRating(n: number): void {
  console.log(`rating: ${fmt(n)} sessions (inputs generated before timing; 20 000 rated first as a warm-up)`);
  const inputs = makeRatingInputs(n);
  const segments = inputs.reduce((a, i) => a + i.segments.length, 0);
  rateAll(makeRatingInputs(20_000, 99));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sum = rateAll(inputs);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  line('segments', `${fmt(segments)} (${(segments / n).toFixed(2)} per session)`);
  line('wall time', `${(wallMs / 1000).toFixed(2).padStart(8)} s   ${fmt((n / wallMs) * 1000).padStart(10)} sessions/s`);
  line('CPU time', `${(cpuMs / 1000).toFixed(2).padStart(8)} s   ${fmt((n / cpuMs) * 1000).padStart(10)} sessions/s`);
  line('sum of totals', `${fmt(sum / 100, 2)} EUR`);
}

function printRun(name: string, r: BillRun): void {
  const perBill = r.billMs;
  line(
    name,
    `${(r.wallMs / 1000).toFixed(2).padStart(8)} s  ${fmt((r.bills / r.wallMs) * 1000).padStart(6)} bills/s  ` +
      `bill p50 ${percentile(perBill, 50).toFixed(2)} ms p99 ${percentile(perBill, 99).toFixed(2)} ms  ` +
      `CSV ${(r.csvMs / 1000).toFixed(2)} s  CPU ${(r.cpuMs / 1000).toFixed(2)} s`,
  );
}

async function benchBills(name: string, store: OpenedStore, o: SeedOptions, concurrencies: readonly number[]): Promise<void> {
  console.log(`${name}: ${fmt(o.users)} users × ${o.sessionsPerUser} sessions + ${o.chargesPerUser} charges`);
  const seeded = await seedBills(store, {
    ...o,
    onProgress: (p) => {
      if (p.users % Math.max(1, Math.floor(o.users / 10)) === 0 || p.users === o.users) {
        console.log(`  seeding: ${fmt(p.users).padStart(6)} users  ${fmt(p.sessions).padStart(9)} sessions  ${fmt(p.ledgerEntries).padStart(9)} ledger entries  ${(p.elapsedMs / 1000).toFixed(1).padStart(6)} s`);
      }
    },
  });
  line('seeded', `${fmt(seeded.sessions)} sessions, ${fmt(seeded.segments)} segments, ${fmt(seeded.charges)} charges, ${fmt(seeded.ledgerEntries)} ledger entries in ${(seeded.ms / 1000).toFixed(1)} s`);
  if (store.dialect === 'postgres') {
    const t = performance.now();
    await sql`vacuum analyze sessions, session_segments, charges, ledger_entries, accounts`.execute(store.db);
    line('vacuum analyze', `${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const reports = new BillingReports(store);
  const t = performance.now();
  const users = await store.sessions.usersWithSessions(seeded.period);
  line('usersWithSessions(period)', `${(performance.now() - t).toFixed(0)} ms, ${fmt(users.length)} users`);
  if (users.length !== o.users) throw new Error(`usersWithSessions found ${users.length} users, expected ${o.users}`);
  await verifyBills(reports, seeded, o);
  line('checked', `20 bills against the ledger (billMatchesLedger) and the seeded line counts`);
  for (const c of concurrencies) {
    const r = await produceBills(reports, users, seeded.period, c);
    if (r.sessionLines !== o.users * o.sessionsPerUser || r.chargeLines !== o.users * o.chargesPerUser) {
      throw new Error(`bills had ${r.sessionLines} session and ${r.chargeLines} charge lines`);
    }
    printRun(c === 1 ? 'bills + CSV, one at a time' : `bills + CSV, ${c} at a time`, r);
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const int = (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
    return n;
  };
  const opts = new Command('billing-bench')
    .option('--users <n>', 'users with a bill', int, 10_000)
    .option('--sessions-per-user <n>', 'rated sessions per user in the period', int, 100)
    .option('--charges-per-user <n>', 'application charges per user in the period', int, 10)
    .option('--rate <n>', 'sessions to rate', int, 1_000_000)
    .option('--store <kind>', 'sqlite, postgres or both', 'both')
    .parse(argv, { from: 'node' })
    .opts<{ users: number; sessionsPerUser: number; chargesPerUser: number; rate: number; store: string }>();
  if (!['sqlite', 'postgres', 'both'].includes(opts.store)) throw new Error(`--store must be sqlite, postgres or both, not ${opts.store}`);
  const postgresUrl = process.env.SIPRELAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const seedOptions: SeedOptions = { users: opts.users, sessionsPerUser: opts.sessionsPerUser, chargesPerUser: opts.chargesPerUser };

  console.log(`Node ${process.version}`);
  if (opts.rate > 0) benchRating(opts.rate);
  if (opts.users === 0) return;

  if (opts.store !== 'postgres') {
    const dir = mkdtempSync(join(tmpdir(), 'siprelay-billing-bench-'));
    const store = await openStore(`sqlite:${join(dir, 'bench.sqlite')}`);
    try {
      await benchBills('SQLite', store, seedOptions, [1]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (opts.store !== 'sqlite') {
    const schema = `bench_billing_${Date.now().toString(36)}`;
    const store = await openStore(postgresUrl, { schema });
    try {
      await benchBills('PostgreSQL', store, seedOptions, [1, 8]);
    } finally {
      await store.close();
      const c = new pg.Client({ connectionString: postgresUrl });
      await c.connect();
      await c.query(`drop schema if exists "${schema}" cascade`);
      await c.end();
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv);
}
