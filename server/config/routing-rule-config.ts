import { z } from 'zod';
import { nonEmptyString } from './config-values.js';

/**
 * Routing rules (design brief claim 2, issue 3 item 5): an ordered list; the
 * first rule whose `match` holds names the service and the client facts
 * handed to the application server. This file fixes the configuration
 * shape; the routing engine gives it behaviour (docs/routing.md).
 *
 * Semantics every rule engine must keep, because operators rely on them:
 * - every condition of a `match` must hold; a rule without `match` always
 *   matches;
 * - a matcher given as a plain value means `{ equals: value }`;
 * - `regex` must match the whole value (as if written `^(?:…)$`), and its
 *   named groups are available to templates as `${match.<name>}`;
 * - `present: false` holds when the field is absent;
 * - `service` and string `facts` are templates (see {@link TEMPLATE_REFERENCE}).
 */

/** What `${…}` in a template may name. */
export const TEMPLATE_REFERENCE =
  /^(?:requestUri\.(?:user|host)|from\.(?:user|host)|to\.(?:user|host)|header\.[A-Za-z0-9!#$%&'*+.^_`|~-]+|body\.[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*|match\.[A-Za-z_][A-Za-z0-9_]*)$/;

const MATCHER_KINDS = ['equals', 'oneOf', 'regex', 'present'] as const;

function validRegex(src: string): boolean {
  try {
    new RegExp(src, 'u');
    return true;
  } catch {
    return false;
  }
}

function matcherSchema<T extends z.ZodType>(value: T) {
  return z.preprocess(
    // A plain value is shorthand for { equals: value }.
    (v) => (v === null || typeof v !== 'object' || Array.isArray(v) ? { equals: v } : v),
    z
      .strictObject({
        equals: value.optional(),
        oneOf: z.array(value, { error: 'expected a list' }).min(1, { error: 'must not be empty' }).optional(),
        regex: z
          .string({ error: 'expected a regular expression' })
          .refine(validRegex, { error: 'is not a valid regular expression' })
          .optional(),
        present: z.boolean({ error: 'expected true or false' }).optional(),
        /** Compare `equals`, `oneOf` and `regex` ignoring case. Default false. */
        ignoreCase: z.boolean({ error: 'expected true or false' }).default(false),
      })
      .refine((m) => MATCHER_KINDS.filter((k) => m[k] !== undefined).length === 1, {
        error: `give exactly one of: ${MATCHER_KINDS.join(', ')}`,
      }),
  );
}

/** Matches a text field of the request (URI part, header value). */
export const textMatcherSchema = matcherSchema(z.string({ error: 'expected a string' }));

/** Matches a field of the JSON body, which may be any JSON scalar. */
export const jsonMatcherSchema = matcherSchema(
  z.union([z.string(), z.number(), z.boolean(), z.null()], { error: 'expected a string, number, boolean or null' }),
);

const uriPartsSchema = z
  .strictObject({ user: textMatcherSchema.optional(), host: textMatcherSchema.optional() })
  .optional();

const templateSchema = nonEmptyString.superRefine((s, ctx) => {
  for (const m of s.matchAll(/\$\{([^}]*)\}/g)) {
    if (!TEMPLATE_REFERENCE.test(m[1])) {
      ctx.addIssue({
        code: 'custom',
        message: `"\${${m[1]}}" names nothing a rule can read; use requestUri.user|host, from.user|host, to.user|host, header.<Name>, body.<field.path> or match.<group>`,
      });
    }
  }
  if (/\$\{[^}]*$/.test(s)) ctx.addIssue({ code: 'custom', message: 'has an unclosed "${"' });
});

export const routingRuleSchema = z
  .strictObject({
    /** Shown in logs and errors; default `rules[<index>]`. */
    name: nonEmptyString.optional(),
    match: z
      .strictObject({
        /** Parts of the Request-URI. */
        requestUri: uriPartsSchema,
        /** Parts of the From URI (the authenticated user's address of record). */
        from: uriPartsSchema,
        /** Parts of the To URI. */
        to: uriPartsSchema,
        /** Header values by header name (names compare case-insensitively). */
        headers: z
          .record(
            z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'expected a header name' }),
            textMatcherSchema,
            { error: (iss) => (iss.code === 'invalid_key' ? 'expected a header name' : 'expected a mapping of header names to matchers') },
          )
          .optional(),
        /**
         * Fields of the `application/vnd.siprelay.request+json` body by
         * dotted path (`item.kind`, `items.0.sku`).
         */
        body: z
          .record(
            z.string().regex(/^[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*$/, { error: 'expected a dotted field path' }),
            jsonMatcherSchema,
            { error: (iss) => (iss.code === 'invalid_key' ? 'expected a dotted field path' : 'expected a mapping of field paths to matchers') },
          )
          .optional(),
      })
      .optional(),
    /** The service, possibly computed: `wine`, `${requestUri.user}`, `shop-${body.shop}`. */
    service: templateSchema,
    /** Client facts for the application server; strings are templates. */
    facts: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/),
        z.union([templateSchema, z.number(), z.boolean()], { error: 'expected a string, number or boolean' }),
        {
          error: (iss) =>
            iss.code === 'invalid_key'
              ? 'expected a fact name (a letter, then letters, digits, "_", "." or "-")'
              : 'expected a mapping of fact names to values',
        },
      )
      .default({}),
  })
  .superRefine((rule, ctx) => {
    // ${match.x} must name a named group of one of the rule's regexes.
    const groups = new Set<string>();
    const collect = (m: { regex?: string } | undefined) => {
      for (const g of m?.regex?.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g) ?? []) groups.add(g[1]);
    };
    const match = rule.match;
    for (const part of [match?.requestUri, match?.from, match?.to]) {
      collect(part?.user);
      collect(part?.host);
    }
    for (const m of Object.values(match?.headers ?? {})) collect(m);
    for (const m of Object.values(match?.body ?? {})) collect(m);
    const check = (s: unknown, path: (string | number)[]) => {
      if (typeof s !== 'string') return;
      for (const m of s.matchAll(/\$\{match\.([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
        if (!groups.has(m[1])) {
          ctx.addIssue({ code: 'custom', path, message: `"\${match.${m[1]}}" is not a named group of this rule's regex` });
        }
      }
    };
    check(rule.service, ['service']);
    for (const [k, v] of Object.entries(rule.facts)) check(v, ['facts', k]);
  });

/** One routing rule, as validated. */
export type RoutingRuleConfig = z.infer<typeof routingRuleSchema>;
/** A matcher after shorthand expansion. */
export type TextMatcherConfig = z.infer<typeof textMatcherSchema>;
export type JsonMatcherConfig = z.infer<typeof jsonMatcherSchema>;

/** Without rules, the Request-URI user names the service: `sip:wine@portal.test` → `wine`. */
export const DEFAULT_ROUTING_RULES = [{ name: 'service-from-request-uri', service: '${requestUri.user}' }];
