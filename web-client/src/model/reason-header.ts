/** A Reason header value (RFC 3326 §2): `SIP;cause=402;text="credit exhausted"`. */
export interface ReasonValue {
  /** `SIP`, `Q.850`… */
  readonly protocol: string;
  readonly cause: number | undefined;
  readonly text: string | undefined;
}

/**
 * Parses one Reason header value; `undefined` when it does not follow
 * RFC 3326's `protocol *(SEMI reason-params)`.
 *
 * @example
 * ```ts
 * parseReason('SIP;cause=503;text="relay shutting down"'); // { protocol: 'SIP', cause: 503, text: 'relay shutting down' }
 * ```
 */
export function parseReason(value: string): ReasonValue | undefined {
  const m = /^\s*([A-Za-z0-9.!%*_+`'~-]+)\s*(;.*)?$/s.exec(value);
  if (!m) return undefined;
  let cause: number | undefined;
  let text: string | undefined;
  const params = m[2] ?? '';
  // Parameters: token=token or token="quoted string" (with \-escapes).
  const re = /;\s*([A-Za-z0-9.!%*_+`'~-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;\s"]*))?\s*/gy;
  let p: RegExpExecArray | null;
  let consumed = 0;
  while ((p = re.exec(params)) !== null) {
    consumed = re.lastIndex;
    const name = p[1].toLowerCase();
    let v = p[2];
    if (v !== undefined && v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (name === 'cause' && v !== undefined && /^\d+$/.test(v)) cause = Number(v);
    if (name === 'text' && v !== undefined) text = v;
  }
  if (consumed !== params.length) return undefined;
  return { protocol: m[1], cause, text };
}
