import type { SipRequest } from '../../sip/message/sip-request.js';
import type { AuthenticatedParty } from '../relay-ports.js';
import { readRequestJson, valueAtPath, type RequestJsonLimits } from './request-json-body.js';

/** A URI part a rule can read. */
export type UriFact = 'requestUri.user' | 'requestUri.host' | 'from.user' | 'from.host' | 'to.user' | 'to.host';

const UNREAD = Symbol('unread');

/**
 * The facts of one request that routing rules read, each computed on first
 * use and kept for the other rules: a rule set that never looks at the
 * body never parses it. Every accessor returns `undefined` for a fact that
 * is absent or cannot be read (a malformed To, a non-SIP Request-URI, a
 * body that is not JSON); none throws.
 *
 * - URI users are unescaped once (RFC 3261 §19.1.4: `sip:w%69ne@…` is
 *   `wine`), hosts lower-cased (hosts compare case-insensitively).
 * - `from.*` is the authenticated party's address of record (Digest
 *   username and domain), not the From header: a forged From must not pick
 *   a rule meant for someone else.
 * - A header is the value of its first line, trimmed.
 */
export class RequestFacts {
  private requestUri: { user: string | undefined; host: string | undefined } | undefined;
  private toUri: { user: string | undefined; host: string | undefined } | undefined;
  private json: unknown = UNREAD;

  constructor(
    private readonly request: SipRequest,
    private readonly party: AuthenticatedParty,
    private readonly bodyLimits: RequestJsonLimits,
  ) {}

  uri(fact: UriFact): string | undefined {
    switch (fact) {
      case 'requestUri.user':
        return (this.requestUri ??= this.readRequestUri()).user;
      case 'requestUri.host':
        return (this.requestUri ??= this.readRequestUri()).host;
      case 'to.user':
        return (this.toUri ??= this.readTo()).user;
      case 'to.host':
        return (this.toUri ??= this.readTo()).host;
      case 'from.user':
        return this.party.username;
      case 'from.host':
        return this.party.domain.toLowerCase();
    }
  }

  header(name: string): string | undefined {
    const v = this.request.header(name);
    return v === undefined ? undefined : v.trim();
  }

  /** The JSON value at `path` in the client's service details. */
  body(path: readonly string[]): unknown {
    if (this.json === UNREAD) this.json = readRequestJson(this.request, this.bodyLimits);
    return valueAtPath(this.json, path);
  }

  private readRequestUri(): { user: string | undefined; host: string | undefined } {
    try {
      const uri = this.request.uri;
      if (uri.kind !== 'sip') return { user: undefined, host: undefined };
      return { user: uri.userDecoded, host: uri.host.toLowerCase() };
    } catch {
      return { user: undefined, host: undefined };
    }
  }

  private readTo(): { user: string | undefined; host: string | undefined } {
    try {
      const uri = this.request.to.uri;
      if (uri.kind !== 'sip') return { user: undefined, host: undefined };
      return { user: uri.userDecoded, host: uri.host.toLowerCase() };
    } catch {
      return { user: undefined, host: undefined };
    }
  }
}
