import { parseGenericParams, skipWs, trimWs } from '../../sip/grammar/header-scanner.js';
import { Params } from '../../sip/grammar/params.js';
import { parseReplaces } from '../../sip/dialog/replaces.js';
import type { SipRequest } from '../../sip/message/sip-request.js';

/**
 * A dialog a new request refers to: by `Replaces` (RFC 3891) on an INVITE,
 * or by `Target-Dialog` (RFC 4538) on an INVITE or an out-of-dialog REFER.
 * Both name the dialog from the point of view of the UA that receives the
 * request, so the relay, which sits between both ends, matches the two
 * tags in either order.
 */
export interface DialogReference {
  header: 'replaces' | 'target-dialog';
  callId: string;
  tags: readonly [string, string];
}

/**
 * `Target-Dialog: callid;local-tag=…;remote-tag=…` (RFC 4538 §7). Both tags
 * are mandatory; undefined when the value lacks one.
 */
export function parseTargetDialog(value: string): { callId: string; localTag: string; remoteTag: string } | undefined {
  const s = trimWs(value);
  const semi = s.indexOf(';');
  const callId = trimWs(semi < 0 ? s : s.slice(0, semi));
  if (callId.length === 0) return undefined;
  const params = new Params();
  try {
    const end = parseGenericParams(s, semi < 0 ? s.length : semi, params, 'target-dialog');
    if (skipWs(s, end) !== s.length) return undefined;
  } catch {
    return undefined;
  }
  const localTag = params.get('local-tag');
  const remoteTag = params.get('remote-tag');
  if (typeof localTag !== 'string' || typeof remoteTag !== 'string' || !localTag || !remoteTag) return undefined;
  return { callId, localTag, remoteTag };
}

/**
 * The dialog `request` refers to: Replaces on an INVITE first, then
 * Target-Dialog on an INVITE or REFER. `undefined` when it names none;
 * `'malformed'` when a header is there but does not parse (400).
 */
export function dialogReference(request: SipRequest): DialogReference | 'malformed' | undefined {
  const method = request.method;
  if (method === 'INVITE') {
    const r = request.header('replaces');
    if (r !== undefined) {
      if (request.countHeader('replaces') > 1) return 'malformed';
      const v = parseReplaces(r);
      return v === undefined ? 'malformed' : { header: 'replaces', callId: v.callId, tags: [v.toTag, v.fromTag] };
    }
  }
  if (method === 'INVITE' || method === 'REFER') {
    const t = request.header('target-dialog');
    if (t !== undefined) {
      if (request.countHeader('target-dialog') > 1) return 'malformed';
      const v = parseTargetDialog(t);
      return v === undefined ? 'malformed' : { header: 'target-dialog', callId: v.callId, tags: [v.localTag, v.remoteTag] };
    }
  }
  return undefined;
}
