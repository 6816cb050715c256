import type { RelayConfig } from '../config/relay-config-schema.js';

/**
 * The `iss` of the relay's tokens: its public URL, so that
 * `${iss}/.well-known/jwks.json` is where the keys are (the convention of
 * OpenID Connect discovery). `http.publicUrl` when set (a proxy in front),
 * else `http://<http.host>:<http.port>`, with the first SIP domain in place
 * of an any-address (`0.0.0.0`, `::`), which names no host. No trailing slash.
 */
export function relayIssuer(config: Pick<RelayConfig, 'http' | 'domains'>): string {
  const { publicUrl, host, port } = config.http;
  if (publicUrl !== undefined) return publicUrl.replace(/\/+$/, '');
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  const name = wildcard ? config.domains[0] : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}
