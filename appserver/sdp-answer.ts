/**
 * An SDP answer (RFC 3264) that declines every media stream of `offer`: an
 * application server offers a web page, not audio or video, but a stock
 * WebRTC user agent such as JsSIP insists on an SDP answer in the 2xx to
 * its INVITE (design brief; docs/clients.md). RFC 3264 §6: "An offered
 * stream MAY be rejected in the answer by setting the port in the m line to
 * zero"; the answer keeps one m line per offered one, in order, with its
 * `a=mid` (JSEP, RFC 8829 §5.3.1), so that a browser's
 * `setRemoteDescription` accepts it. A rejected stream needs no ICE
 * credentials or DTLS fingerprint. No media ever flows.
 *
 * Returns undefined when `offer` has no `v=` line (not SDP).
 *
 * @example
 * ```ts
 * const answer = decliningSdpAnswer(offerText);
 * // v=0
 * // o=siprelay-appserver 4711 1 IN IP4 0.0.0.0
 * // s=-
 * // t=0 0
 * // m=audio 0 UDP/TLS/RTP/SAVPF 111
 * // c=IN IP4 0.0.0.0
 * // a=mid:0
 * ```
 */
export function decliningSdpAnswer(offer: string, sessionId: number = Date.now() % 1_000_000_000): string | undefined {
  const lines = offer.split(/\r?\n/);
  if (!lines.some((l) => l.startsWith('v='))) return undefined;
  const out = ['v=0', `o=siprelay-appserver ${Math.max(0, Math.floor(sessionId))} 1 IN IP4 0.0.0.0`, 's=-', 't=0 0'];
  let inMedia = false;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      // m=<media> <port>[/<count>] <proto> <fmt> ...: keep media, proto and the first format.
      const [media = 'application', , proto = 'RTP/AVP', fmt = '0'] = line.slice(2).trim().split(/\s+/);
      out.push(`m=${media} 0 ${proto} ${fmt}`, 'c=IN IP4 0.0.0.0');
      inMedia = true;
    } else if (inMedia && line.startsWith('a=mid:')) {
      out.push(line.trim());
    }
  }
  return out.join('\r\n') + '\r\n';
}
