import { isIP } from 'node:net';

const MAPPED_PREFIX = '::ffff:';

/**
 * The address a peer is known by. A dual-stack IPv6 socket reports IPv4
 * peers as `::ffff:a.b.c.d`; flows, Via `received` and per-address limits
 * use the plain IPv4 form so that one peer has one name whichever socket
 * it reached.
 */
export function canonicalHost(host: string): string {
  if (host.length > MAPPED_PREFIX.length && host.charCodeAt(0) === 58 /* : */ && host.toLowerCase().startsWith(MAPPED_PREFIX)) {
    const v4 = host.slice(MAPPED_PREFIX.length);
    if (isIP(v4) === 4) return v4;
  }
  // Names are case-insensitive (RFC 3261 §19.1.4); IPv6 hex too.
  return host.toLowerCase();
}

/** True for the any-address a listener binds to when it takes every interface. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

/** `host` as it goes in a URL authority: IPv6 in brackets (RFC 3986 §3.2.2). */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? '[' + host + ']' : host;
}

/** Address family of an IP literal (4 or 6), or 0 for a name. */
export function ipFamily(host: string): 0 | 4 | 6 {
  return isIP(host) as 0 | 4 | 6;
}
