import type { NameAddress } from '../../sip/grammar/name-address.js';
import { unquote } from '../../sip/grammar/header-scanner.js';
import type { SipUri } from '../../sip/grammar/uri.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import type { Flow } from '../../sip/transport/transport.js';

/** One Contact of a REGISTER, read and checked (RFC 3261 §10.3 step 6). */
export interface RequestedContact {
  uri: SipUri;
  displayName: string | undefined;
  /** Seconds granted: the request's, capped at the maximum; 0 removes. */
  expires: number;
  /** Header parameters except `expires`, as written. */
  params: string;
  q: number | undefined;
  /** `+sip.instance` without quotes and angle brackets (RFC 5626 §4.1). */
  instanceId: string | undefined;
  /** `reg-id`, only with `+sip.instance` (RFC 5626 §6: ignored without it). */
  regId: number | undefined;
  /** Reachable only over the REGISTER's flow; see {@link StoredBinding.flowBound}. */
  flowBound: boolean;
}

/** Expiry limits, in seconds. */
export interface ExpiryPolicy {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  /** Most bindings of one AOR; a REGISTER adding more is refused. */
  maxBindings: number;
}

/** The Contacts of a REGISTER, or the answer that refuses it. */
export type RequestedContacts =
  | { kind: 'query' }
  | { kind: 'remove-all' }
  | { kind: 'contacts'; contacts: RequestedContact[]; outbound: boolean }
  | { kind: 'refuse'; status: number; reason?: string; headers?: Array<[string, string]> };

/** Largest delta-seconds kept (RFC 3261 §20.19: 2**32-1); larger ones are capped anyway. */
const MAX_DELTA = 0xffffffff;

/**
 * A delta-seconds value (Expires, the `expires` parameter), or undefined
 * when it is not one. RFC 4475 §3.1.2.4 lets a registrar treat a bad
 * expiry as absent, and so we do: the next source of an expiry applies.
 */
export function parseDeltaSeconds(value: string | null | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (!/^[0-9]{1,20}$/.test(v)) return undefined;
  const n = Number(v);
  return n > MAX_DELTA ? MAX_DELTA : n;
}

/** A q-value (RFC 3261 §20.10: 0 to 1 with up to three decimals), or undefined when absent or malformed. */
function parseQ(value: string | null | undefined): number | undefined {
  if (typeof value !== 'string' || !/^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/.test(value)) return undefined;
  return Number(value);
}

function instanceOf(c: NameAddress): string | undefined {
  const raw = c.params.get('+sip.instance');
  if (typeof raw !== 'string') return undefined;
  let v = raw.startsWith('"') ? unquote(raw) : raw;
  if (v.startsWith('<') && v.endsWith('>')) v = v.slice(1, -1);
  return v === '' ? undefined : v;
}

/**
 * Reads the Contact header fields of a REGISTER as §10.3 step 6 says:
 * none is a query; `*` removes every binding and is allowed only alone and
 * with `Expires: 0` (400 otherwise); each other Contact must be a SIP or
 * SIPS URI (the relay can reach nothing else: 400) and gets its expiry
 * from its `expires` parameter, else the Expires header, else the default;
 * an expiry above zero but under the minimum is refused with 423 and
 * Min-Expires (§10.3 step 7, §21.4.17), one above the maximum is shortened.
 * Parameters stay where they were written: `sip:a@b;x` (no angle brackets)
 * has a header parameter `x`, `<sip:a@b;x>` a URI parameter (RFC 4475
 * §3.3.12, §3.3.13), and URI headers such as `?Route=…` stay in the URI
 * (§3.3.14).
 */
export function readRequestedContacts(request: SipRequest, flow: Flow, policy: ExpiryPolicy): RequestedContacts {
  const contacts = request.contacts;
  const headerExpires = parseDeltaSeconds(request.header('expires'));
  if (contacts === '*') {
    if (request.header('expires')?.trim() !== '0') {
      return { kind: 'refuse', status: 400, reason: 'Contact * needs Expires: 0' };
    }
    return { kind: 'remove-all' };
  }
  if (contacts.length === 0) return { kind: 'query' };
  const overWebSocket = flow.protocol === 'WS' || flow.protocol === 'WSS';
  const out: RequestedContact[] = [];
  let regIds = 0;
  let outbound = false;
  for (const c of contacts) {
    if (c.uri.kind !== 'sip') return { kind: 'refuse', status: 400, reason: 'Contact must be a SIP or SIPS URI' };
    let expires = parseDeltaSeconds(c.params.get('expires')) ?? headerExpires ?? policy.defaultExpires;
    if (expires > 0 && expires < policy.minExpires) {
      return { kind: 'refuse', status: 423, headers: [['Min-Expires', String(policy.minExpires)]] };
    }
    if (expires > policy.maxExpires) expires = policy.maxExpires;
    const instanceId = instanceOf(c);
    const regIdText = c.params.get('reg-id');
    const hasRegId = typeof regIdText === 'string' && /^[1-9][0-9]{0,9}$/.test(regIdText);
    if (c.params.has('reg-id')) regIds++;
    const regId = instanceId !== undefined && hasRegId ? Number(regIdText) : undefined;
    if (regId !== undefined) outbound = true;
    const params = c.params.clone();
    params.delete('expires');
    const uri = c.uri;
    const transport = uri.transport;
    out.push({
      uri,
      displayName: c.displayName,
      expires,
      params: params.toString(),
      q: parseQ(c.params.get('q')),
      instanceId,
      regId,
      flowBound:
        overWebSocket ||
        uri.hostname.endsWith('.invalid') ||
        transport === 'ws' ||
        transport === 'wss' ||
        uri.params.has('ob') ||
        regId !== undefined,
    });
  }
  // RFC 5626 §6: one flow per REGISTER, so at most one Contact with reg-id.
  if (regIds > 1) return { kind: 'refuse', status: 400, reason: 'More than one Contact with reg-id' };
  if (out.filter((c) => c.expires > 0).length > policy.maxBindings) {
    return { kind: 'refuse', status: 403, reason: 'Too Many Contacts' };
  }
  return { kind: 'contacts', contacts: out, outbound };
}
