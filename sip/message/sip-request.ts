import { parseUri, type Uri } from '../grammar/uri.js';
import { type BodyInit, type HeaderInit, SipMessage } from './sip-message.js';

/**
 * A SIP request (RFC 3261 §7.1). The Request-URI is parsed on first access;
 * `rawUri` keeps the text as received.
 */
export class SipRequest extends SipMessage {
  readonly isRequest = true as const;
  method: string;
  private _uri: Uri | undefined;
  private _rawUri: string;

  constructor(method: string, uri: Uri | string, headers?: HeaderInit, body?: BodyInit) {
    super(headers, body);
    this.method = method;
    if (typeof uri === 'string') {
      this._rawUri = uri;
      this._uri = undefined;
    } else {
      this._uri = uri;
      this._rawUri = uri.toString();
    }
  }

  /** The Request-URI; throws SipParseError (`SIP_ERR_URI`) when malformed. */
  get uri(): Uri {
    return (this._uri ??= parseUri(this._rawUri));
  }

  set uri(value: Uri) {
    this._uri = value;
    this._rawUri = value.toString();
  }

  /** The Request-URI as text. After mutating `uri` in place call {@link commitUri}. */
  get rawUri(): string {
    return this._rawUri;
  }

  /** Re-serialises `uri` after it was changed in place. */
  commitUri(): void {
    if (this._uri) this._rawUri = this._uri.toString();
  }

  startLine(): string {
    return this.method + ' ' + this._rawUri + ' ' + this.version;
  }
}
