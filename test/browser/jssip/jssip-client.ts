import * as JsSIP from 'jssip';
import type { EndEvent, IncomingInfoEvent, OutgoingInfoEvent, ReferEvent, RTCSession } from 'jssip/lib/RTCSession.js';

/**
 * A stock third-party SIP-over-WebSocket user agent against the relay:
 * JsSIP from npm, unmodified, used only through its public API the way a
 * WebRTC web app would. The browser test drives it through
 * `window.jssipClient` and checks what the relay records.
 */

interface CallOutcome {
  /** Final status JsSIP saw for the INVITE. */
  status: number;
  /** The service URL, from `Call-Info: <url>;purpose=info` of the 2xx (docs/sdk.md, "Clients that send SDP"). */
  callInfo: string | undefined;
  /** Content-Type of the 2xx: the SDP answer JsSIP insists on. */
  contentType: string | undefined;
}

interface Received {
  method: 'INFO' | 'REFER';
  contentType: string | undefined;
  infoPackage: string | undefined;
  body: string;
}

class JsSipClient {
  ua: JsSIP.UA | undefined;
  /** Siprelay-User-Token from the 200 to REGISTER (the relay's token for the HTTP API). */
  token: string | undefined;
  readonly sessions: RTCSession[] = [];
  readonly received: Received[] = [];
  readonly ended: Array<{ originator: string; cause: string }> = [];
  readonly log: string[] = [];

  register(wsUrl: string, user: string, password: string, domain = 'portal.test'): Promise<{ token: string | undefined }> {
    const socket = new JsSIP.WebSocketInterface(wsUrl);
    const ua = new JsSIP.UA({ sockets: [socket], uri: `sip:${user}@${domain}`, password, register: true, user_agent: 'JsSIP (siprelay interop test)' });
    this.ua = ua;
    return new Promise((resolve, reject) => {
      ua.on('registered', (e) => {
        this.token = e.response.getHeader('Siprelay-User-Token') || undefined;
        this.note(`registered (${e.response.status_code})`);
        resolve({ token: this.token });
      });
      ua.on('registrationFailed', (e) => reject(new Error(`registration failed: ${e.cause}`)));
      ua.start();
    });
  }

  /**
   * Calls `target` as JsSIP does: an SDP offer as the whole body (no media:
   * receive-only audio, so there is an m-line to answer), plus whatever
   * extra headers the app adds.
   */
  call(target: string, extraHeaders: string[] = []): Promise<CallOutcome> {
    const ua = this.ua!;
    return new Promise((resolve) => {
      const session = ua.call(target, {
        extraHeaders,
        mediaConstraints: { audio: false, video: false },
        rtcOfferConstraints: { offerToReceiveAudio: true },
        eventHandlers: {
          accepted: (e: { response?: unknown }) => {
            const r = e.response as unknown as { status_code: number; getHeader(n: string): string; hasHeader(n: string): boolean };
            const callInfo = r.hasHeader('Call-Info') ? /<([^>]+)>/.exec(r.getHeader('Call-Info'))?.[1] : undefined;
            if (callInfo) (document.getElementById('service') as HTMLIFrameElement).src = callInfo;
            this.note(`accepted ${r.status_code} ${callInfo ?? ''}`);
            resolve({ status: r.status_code, callInfo, contentType: r.hasHeader('Content-Type') ? r.getHeader('Content-Type') : undefined });
          },
          failed: (e: EndEvent) => {
            const status = (e.message as { status_code?: number } | undefined)?.status_code ?? 0;
            this.note(`failed ${status} ${e.cause}`);
            this.ended.push({ originator: e.originator, cause: e.cause });
            resolve({ status, callInfo: undefined, contentType: undefined });
          },
          ended: (e: EndEvent) => {
            this.note(`ended by ${e.originator}: ${e.cause}`);
            this.ended.push({ originator: e.originator, cause: e.cause });
          },
        },
      });
      this.sessions.push(session);
      session.on('newInfo', (e: IncomingInfoEvent | OutgoingInfoEvent) => {
        if (String(e.originator) !== 'remote') return;
        const req = e.request as unknown as { getHeader(n: string): string; body: string };
        this.received.push({ method: 'INFO', contentType: e.info.contentType, infoPackage: req.getHeader('Info-Package') || undefined, body: e.info.body });
        this.note(`INFO ${e.info.contentType}`);
      });
      session.on('refer', (e: ReferEvent) => {
        const req = e.request as unknown as { call_id: string; from_tag: string; to_tag: string; body: string; getHeader(n: string): string };
        this.received.push({ method: 'REFER', contentType: req.getHeader('Content-Type') || undefined, infoPackage: undefined, body: req.body ?? '' });
        this.note(`REFER to ${req.getHeader('Refer-To')}`);
        // JsSIP's accept() calls the Refer-To URI; the app may add headers — Target-Dialog
        // (RFC 4538) makes the relay link the new session to this one.
        e.accept((newSession: RTCSession) => this.follow(newSession), {
          extraHeaders: [`Target-Dialog: ${req.call_id};local-tag=${req.from_tag};remote-tag=${req.to_tag}`, 'Recv-Info: siprelay-charge'],
          mediaConstraints: { audio: false, video: false },
          rtcOfferConstraints: { offerToReceiveAudio: true },
        });
      });
    });
  }

  private follow(session: RTCSession): void {
    this.sessions.push(session);
    session.on('accepted', () => this.note('transfer target accepted'));
    session.on('ended', (e) => this.ended.push({ originator: e.originator, cause: e.cause }));
    session.on('failed', (e) => this.ended.push({ originator: e.originator, cause: e.cause }));
  }

  /** Ends every established session (BYE). */
  hangUpAll(): number {
    let n = 0;
    for (const s of this.sessions) {
      if (s.isEstablished()) {
        s.terminate();
        n++;
      }
    }
    return n;
  }

  established(): number {
    return this.sessions.filter((s) => s.isEstablished()).length;
  }

  stop(): void {
    this.ua?.stop();
  }

  private note(line: string): void {
    this.log.push(line);
    const pre = document.getElementById('log');
    if (pre) pre.textContent = this.log.join('\n');
  }
}

declare global {
  interface Window {
    jssipClient: JsSipClient;
  }
}

window.jssipClient = new JsSipClient();
