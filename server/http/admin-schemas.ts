import { z } from 'zod';
import { checkPassword, checkServiceName, checkUsername, normalizeDomain } from '../store/account-names.js';

/**
 * Bodies and parameters of the admin API (docs/api.md). Objects are strict:
 * an unknown field is an error naming it, as in the configuration. Name
 * rules are the store's own checks, so the API and the CLI accept the same
 * names and the error names the field before the store is asked.
 */

/** A required string; "is required" when absent, "expected a string" otherwise. */
function text(what = 'a string') {
  return z.string({ error: (iss) => (iss.input === undefined ? 'is required' : `expected ${what}`) });
}

/** A string refined by one of the store's checks, with its message. */
function checked(check: (s: string) => unknown, what?: string) {
  return text(what).superRefine((value, ctx) => {
    try {
      check(value);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
    }
  });
}

const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;

export const usernameSchema = checked((s) => checkUsername(s));
export const appServerNameSchema = checked((s) => checkUsername(s, 'application-server name'));
export const passwordSchema = checked(checkPassword);
export const domainSchema = checked(normalizeDomain, 'a domain').transform((d) => d.toLowerCase());
export const serviceNameSchema = checked(checkServiceName);
const displayNameSchema = text()
  .max(128, { error: 'must be at most 128 characters' })
  .regex(NO_CONTROL, { error: 'must not contain control characters' })
  .nullable();
const planSchema = text().min(1, { error: 'must not be empty' }).max(64, { error: 'must be at most 64 characters' }).nullable();
const disabledSchema = z.boolean({ error: 'expected true or false' });

export const newSubscriberSchema = z.strictObject({
  username: usernameSchema,
  /** Default: the relay's first domain. */
  domain: domainSchema.optional(),
  password: passwordSchema,
  displayName: displayNameSchema.optional(),
  plan: planSchema.optional(),
});

export const subscriberChangesSchema = z
  .strictObject({
    displayName: displayNameSchema.optional(),
    plan: planSchema.optional(),
    disabled: disabledSchema.optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { error: 'give at least one of displayName, plan, disabled' });

export const passwordBodySchema = z.strictObject({ password: passwordSchema });

export const newAppServerSchema = z.strictObject({
  name: appServerNameSchema,
  domain: domainSchema.optional(),
  password: passwordSchema,
  displayName: displayNameSchema.optional(),
  operator: text().trim().min(1, { error: 'must not be empty' }).max(128, { error: 'must be at most 128 characters' }).optional(),
});

export const appServerChangesSchema = z.strictObject({ disabled: disabledSchema });

export const attachServiceSchema = z.strictObject({
  weight: z
    .int({ error: 'expected a positive integer' })
    .min(1, { error: 'expected a positive integer' })
    .max(1_000_000, { error: 'must be at most 1000000' })
    .optional(),
  /** A fixed sip:/sips: URI, or null to use where the application server registers. */
  targetUri: text('a SIP URI').nullable().optional(),
});

export const newApiKeySchema = z
  .strictObject({
    owner: z.enum(['admin', 'app-server'], {
      error: (iss) => (iss.input === undefined ? 'is required' : 'expected "admin" or "app-server"'),
    }),
    appServer: appServerNameSchema.optional(),
    label: text().max(128, { error: 'must be at most 128 characters' }).nullable().optional(),
  })
  .superRefine((k, ctx) => {
    if (k.owner === 'app-server' && k.appServer === undefined) {
      ctx.addIssue({ code: 'custom', path: ['appServer'], message: 'is required when owner is "app-server"' });
    }
    if (k.owner === 'admin' && k.appServer !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['appServer'], message: 'must not be given when owner is "admin"' });
    }
  });

export const rotateKeySchema = z.strictObject({
  algorithm: z.enum(['EdDSA', 'ES256'], { error: 'expected "EdDSA" or "ES256"' }).optional(),
});

/** `?domain=` of the subscriber list. */
export const subscriberListQuerySchema = z.strictObject({ domain: domainSchema.optional() });

/** `?includeRevoked=true&appServer=…` of the API key list. */
export const apiKeyListQuerySchema = z.strictObject({
  includeRevoked: z.enum(['true', 'false'], { error: 'expected true or false' }).optional(),
  appServer: appServerNameSchema.optional(),
});
