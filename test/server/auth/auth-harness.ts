import { DigestClient, type DigestClientOptions } from '../../../sip/auth/digest-client.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import type { Flow } from '../../../sip/transport/transport.js';
import type { ManualClock } from '../../../sip/util/clock.js';
import type { SipLogger } from '../../../sip/util/logger.js';
import type { AuthOutcome, Authenticator } from '../../../server/relay-ports.js';

/** A UDP flow from `host`, enough for the authenticator (it reads the remote address). */
export function flowFrom(host: string, port = 5070): Flow {
  return {
    id: `udp:${host}:${port}`,
    protocol: 'UDP',
    reliable: false,
    local: { host: '127.0.0.1', port: 5060 },
    remote: { host, port },
    isOpen: true,
    send: () => true,
    close: () => undefined,
  };
}

let calls = 0;

/** An out-of-dialog request as a client would send it. */
export function request(method = 'INVITE', uri = 'sip:wine@portal.test', from = 'sip:alice@portal.test'): SipRequest {
  calls++;
  return new SipRequest(method, uri, [
    ['Via', `SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK${calls}abc`],
    ['Max-Forwards', '70'],
    ['From', `<${from}>;tag=f${calls}`],
    ['To', `<${uri}>`],
    ['Call-ID', `call-${calls}@client.test`],
    ['CSeq', `1 ${method}`],
  ]);
}

/** Answers a 401/407 with `client` and makes the retry (CSeq + 1, RFC 3261 §22.2). */
export function answer(client: DigestClient, req: SipRequest, challenge: SipResponse): boolean {
  if (!client.authorize(req, challenge)) return false;
  req.setHeader('CSeq', `${req.cseq.seq + 1} ${req.method}`);
  return true;
}

export function respondOf(outcome: AuthOutcome): SipResponse {
  if (outcome.kind !== 'respond') throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
  return outcome.response;
}

/**
 * Sends `req` (no credentials), answers the challenge with `client`, and
 * returns what the retry got: the usual two-step login of a SIP client.
 */
export async function login(
  auth: Authenticator,
  client: DigestClient,
  req: SipRequest,
  flow: Flow,
  mode: 'www' | 'proxy' = 'www',
  clock?: ManualClock,
): Promise<AuthOutcome> {
  const first = respondOf(await settle(auth.authenticate(req, flow, mode), clock));
  if (!answer(client, req, first)) throw new Error(`client could not answer ${first.status}`);
  return settle(auth.authenticate(req, flow, mode), clock);
}

export function digestClient(username: string, password: string, options?: DigestClientOptions): DigestClient {
  return new DigestClient({ username, password }, options);
}

/** The response as text with every nonce and the To tag replaced, to compare answers byte for byte. */
export function normalized(response: SipResponse): string {
  return new TextDecoder()
    .decode(serializeMessage(response))
    .replace(/nonce="[^"]*"/g, 'nonce="N"')
    .replace(/^(To:.*;tag=)[^;\r\n]*/m, '$1T');
}

/**
 * Awaits `p`, advancing a manual clock through any timers it waits on
 * (slowed answers). Without a clock it just awaits.
 */
export async function settle<T>(p: Promise<T>, clock?: ManualClock): Promise<T> {
  if (!clock) return p;
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (const end = Date.now() + 10_000; !done && Date.now() < end; ) {
    await tick();
    // Small steps, so that time moves no further than the timers need.
    if (clock.pending > 0) clock.advance(50);
  }
  return p;
}

/**
 * Whether `p` waits on the clock: it is still pending once it has had
 * every chance to finish, with a timer set; then the clock is advanced by
 * `ms` and `p` must finish. Returns the result.
 */
export async function expectDelayed<T>(p: Promise<T>, clock: ManualClock, ms: number): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (const end = Date.now() + 10_000; clock.pending === 0 && !done && Date.now() < end; ) await tick();
  if (done) throw new Error('the answer was not delayed');
  clock.advance(ms - 1);
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  if (done) throw new Error(`the answer came before ${ms} ms`);
  clock.advance(1);
  return p;
}

/** Lets I/O (the store) and timers of other code run. */
export function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 1));
}

/** Waits (in real time, at most 10 s) until `condition` holds. */
export async function waitFor(condition: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !condition() && Date.now() < end; ) await tick();
}

/** A logger that keeps what it is given. */
export function recordingLogger(): SipLogger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
