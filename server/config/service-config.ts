import { z } from 'zod';
import { parseSipUriStrict } from '../../sip/grammar/uri.js';
import { intAtLeast, serviceNameSchema } from './config-values.js';

function isSipUri(s: string): boolean {
  try {
    parseSipUriStrict(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * A service the relay offers (design brief flows 1, 3, 4; issue 3 item 6).
 */
export const serviceConfigSchema = z.strictObject({
  name: serviceNameSchema,
  description: z.string({ error: 'expected a string' }).default(''),
  /**
   * `race`: all application servers in parallel, first 2xx wins, the rest
   * get CANCEL (default). `all`: all in parallel, every 2xx kept.
   * `balance`: one at a time by weight and load, the next on failure.
   */
  fork: z.enum(['balance', 'race', 'all'], { error: 'expected one of: balance, race, all' }).default('race'),
  /** Honour `Request-Disposition: no-cancel` (RFC 3841) from clients: `all` on request. */
  allowNoCancel: z.boolean({ error: 'expected true or false' }).default(false),
  /** The relay ends a session after this long (`max-duration`); null for no limit. */
  maxDurationSeconds: intAtLeast(1).nullable().default(14_400),
  /** Session-Expires the relay asks for (RFC 4028 §4 recommends 1800); at least Min-SE 90. */
  sessionTimerSeconds: intAtLeast(90).default(1800),
  /** Most live sessions of this service at once; null for no limit. */
  maxSessions: intAtLeast(1).nullable().default(null),
  /**
   * How the service is priced. Kept as given until billing (issue 4)
   * defines its fields; any mapping, or null for a free service.
   */
  tariff: z.record(z.string(), z.unknown(), { error: 'expected a mapping' }).nullable().default(null),
});

/** One service, as validated. */
export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

/** A fixed application-server address for a service, besides those that register. */
export const staticTargetSchema = z.strictObject({
  service: serviceNameSchema,
  /** A `sip:` or `sips:` URI (RFC 3261 §19.1). */
  uri: z.string({ error: 'expected a SIP URI' }).refine(isSipUri, { error: 'expected a sip: or sips: URI' }),
  /** Relative share in `balance` mode. */
  weight: intAtLeast(1).default(1),
  /**
   * The application-server account this target is: the audience of the
   * token the relay signs for it, and who may charge. Default: the URI's
   * host (and port).
   */
  appServer: z.string({ error: 'expected an application-server name' }).min(1, { error: 'must not be empty' }).optional(),
});

/** One static target, as validated. */
export type StaticTargetConfig = z.infer<typeof staticTargetSchema>;
