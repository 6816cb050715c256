import type { SipUri } from '../../sip/grammar/uri.js';
import { parseSipUriStrict } from '../../sip/grammar/uri.js';
import type { StaticTargetConfig } from '../config/service-config.js';
import type { AppServerService } from '../store/app-server-repository.js';

/** An application server at a fixed address, from the configuration or the store. */
export interface StaticTarget {
  service: string;
  /** A `sip:` or `sips:` URI. */
  uri: string | SipUri;
  /** Relative share in `balance` mode. Default 1. */
  weight?: number;
  /**
   * The application-server account it belongs to: the audience of the
   * token the relay signs for it. Default: the URI's host (and port).
   */
  appServer?: string;
}

/** The `staticTargets` of the configuration. */
export function staticTargetsFromConfig(targets: readonly StaticTargetConfig[]): StaticTarget[] {
  return targets.map((t) => ({ service: t.service, uri: t.uri, weight: t.weight, appServer: t.appServer }));
}

/**
 * The services the store binds to an application server at a fixed URI
 * (`siprelay appserver attach --target`); those without a URI are reached
 * where they register instead. Disabled application servers are left out.
 */
export function staticTargetsFromStore(rows: readonly AppServerService[]): StaticTarget[] {
  return rows
    .filter((r) => r.targetUri !== null && !r.disabled)
    .map((r) => ({ service: r.service, uri: r.targetUri!, weight: r.weight, appServer: r.appServer }));
}

/** Default account name of a static target: `host` or `host:port`. */
export function defaultAppServerName(uri: SipUri): string {
  return uri.port === undefined ? uri.host.toLowerCase() : `${uri.host.toLowerCase()}:${uri.port}`;
}

/** The URI of a static target, parsed; throws TypeError naming it when it is not a SIP URI. */
export function staticTargetUri(target: StaticTarget, where: string): SipUri {
  if (typeof target.uri !== 'string') return target.uri;
  try {
    return parseSipUriStrict(target.uri);
  } catch {
    throw new TypeError(`${where}.uri ${JSON.stringify(target.uri)} is not a sip: or sips: URI`);
  }
}
