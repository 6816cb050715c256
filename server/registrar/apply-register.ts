import { uriEquals } from '../../sip/grammar/uri.js';
import type { RequestedContact } from './requested-contacts.js';
import type { StoredBinding } from './stored-binding.js';

/** The REGISTER being applied, as {@link applyRegister} needs it. */
export interface RegisterUpdate {
  aor: string;
  callId: string;
  cseq: number;
  /** The Contacts to add, refresh or remove, or `*` (remove all). */
  contacts: readonly RequestedContact[] | '*';
  flowId: string;
  node: string;
  /** Most bindings the AOR may hold; the oldest others give way to new ones. */
  maxBindings: number;
}

/** The outcome: the AOR's new bindings, or the request fails as a whole. */
export type RegisterOutcome = { ok: true; bindings: StoredBinding[] } | { ok: false; reason: string };

/**
 * Whether a requested Contact names an existing binding. With RFC 5626
 * outbound (`+sip.instance` and `reg-id`) the binding is the instance's
 * flow, whatever its Contact URI: a browser that reconnects registers a new
 * `.invalid` URI and replaces its old binding (RFC 5626 §6). Otherwise the
 * Contact URIs are compared by RFC 3261 §19.1.4 (§10.3 step 7).
 */
function sameBinding(b: StoredBinding, c: RequestedContact): boolean {
  if (c.regId !== undefined) return b.instanceId === c.instanceId && b.regId === c.regId;
  return b.regId === undefined && uriEquals(b.contact, c.uri);
}

/**
 * RFC 3261 §10.3 step 7 over the live bindings of one AOR. For each
 * Contact: an existing binding with the same Call-ID and a CSeq that is not
 * higher aborts the whole request (the registrar answers 500: an old or
 * reordered REGISTER must not undo a newer one); otherwise an expiry of 0
 * removes the binding and any other adds or refreshes it. `*` removes every
 * binding under the same Call-ID/CSeq rule. Either every change is made or
 * none ("MUST be committed ... if and only if all binding updates and
 * additions succeed"). Pure, so that a store may run it again after losing
 * a race.
 */
export function applyRegister(current: readonly StoredBinding[], update: RegisterUpdate, now: number): RegisterOutcome {
  const stale = (b: StoredBinding) => b.callId === update.callId && update.cseq <= b.cseq;
  if (update.contacts === '*') {
    if (current.some(stale)) return { ok: false, reason: 'CSeq not above that of a binding of the same Call-ID' };
    return { ok: true, bindings: [] };
  }
  const next: StoredBinding[] = [...current];
  const written = new Set<StoredBinding>();
  for (const c of update.contacts) {
    const at = next.findIndex((b) => sameBinding(b, c));
    const existing = at < 0 ? undefined : next[at];
    // Only bindings from before this request are ordered against it; a
    // Contact listed twice in one REGISTER simply takes its last value.
    if (existing !== undefined && !written.has(existing) && stale(existing)) {
      return { ok: false, reason: 'CSeq not above that of a binding of the same Call-ID' };
    }
    if (c.expires === 0) {
      if (at >= 0) next.splice(at, 1);
      continue;
    }
    const binding: StoredBinding = {
      aor: update.aor,
      contact: c.uri,
      flowId: update.flowId,
      expiresAt: now + c.expires * 1000,
      instanceId: c.instanceId,
      regId: c.regId,
      q: c.q,
      callId: update.callId,
      cseq: update.cseq,
      contactParams: c.params,
      displayName: c.displayName,
      flowBound: c.flowBound,
      node: update.node,
      updatedAt: now,
    };
    written.add(binding);
    if (at >= 0) next[at] = binding;
    else next.push(binding);
  }
  // Past the limit, the bindings refreshed longest ago give way: a device
  // that vanished without unregistering must not lock its user out.
  if (next.length > update.maxBindings) {
    const evictable = next.filter((b) => !written.has(b)).sort((a, b) => a.updatedAt - b.updatedAt);
    const drop = new Set(evictable.slice(0, next.length - update.maxBindings));
    return { ok: true, bindings: next.filter((b) => !drop.has(b)) };
  }
  return { ok: true, bindings: next };
}
