import { z } from 'zod';

/**
 * Value schemas shared by the configuration sections, each with the
 * message an operator reads when a value is wrong. The messages complete
 * `config error: <key path>: …`.
 */

/** A TCP/UDP port; 0 asks the system for a free one (tests). */
export const portSchema = z
  .int({ error: 'expected an integer between 0 and 65535' })
  .min(0, { error: 'expected an integer between 0 and 65535' })
  .max(65535, { error: 'expected an integer between 0 and 65535' });

/** An integer of at least `min`. */
export function intAtLeast(min: number) {
  const error = min === 1 ? 'expected a positive integer' : `expected an integer of at least ${min}`;
  return z.int({ error }).min(min, { error });
}

/** A string that is not empty. */
export const nonEmptyString = z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' });

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV6 = /^[0-9a-f:.]+$/i;

/** A host to bind or connect to: hostname, IPv4 or IPv6 (brackets optional). */
export const hostSchema = z
  .string({ error: 'expected a hostname or IP address' })
  .refine((h) => HOSTNAME.test(h) || (h.includes(':') && IPV6.test(h.replace(/^\[|\]$/g, ''))), {
    error: 'expected a hostname or IP address',
  });

/** A SIP domain: a hostname or IP address, lower-cased (RFC 3261 §19.1.4: hosts compare case-insensitively). */
export const domainSchema = z
  .string({ error: 'expected a domain name' })
  .refine((h) => HOSTNAME.test(h) || /^\[[0-9a-f:.]+\]$/i.test(h), { error: 'expected a hostname or IP address' })
  .transform((h) => h.toLowerCase());

/** A service name: the user part of `sip:<service>@<domain>`. */
export const serviceNameSchema = z
  .string({ error: 'expected a service name' })
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
    error: 'expected 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  });

/** A path to a readable file (certificate, key); checked when the configuration is loaded. */
export const filePathSchema = nonEmptyString;
