import { reasonPhrase } from './reason-phrases.js';
import { type BodyInit, type HeaderInit, SipMessage } from './sip-message.js';

/** A SIP response (RFC 3261 §7.2). */
export class SipResponse extends SipMessage {
  readonly isRequest = false as const;
  status: number;
  reason: string;

  constructor(status: number, reason?: string, headers?: HeaderInit, body?: BodyInit) {
    super(headers, body);
    this.status = status;
    this.reason = reason ?? reasonPhrase(status);
  }

  /** 1xx. */
  get isProvisional(): boolean {
    return this.status < 200;
  }

  /** 2xx. */
  get isSuccess(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** >= 200. */
  get isFinal(): boolean {
    return this.status >= 200;
  }

  startLine(): string {
    return this.version + ' ' + this.status + ' ' + this.reason;
  }
}
