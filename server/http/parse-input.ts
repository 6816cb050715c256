import type { z } from 'zod';
import { httpApiError } from './http-api-error.js';

/**
 * Validates a request body, query or path parameters with `schema`; the
 * first problem becomes `HTTP_ERR_VALIDATION` naming its field (dotted for
 * nested fields, `items.0.sku`), so a client can point at the input.
 *
 * @throws HttpApiError `HTTP_ERR_VALIDATION`
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: 'body' | 'query' | 'path' = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const field = [...issue.path.map(String), issue.keys[0]].join('.');
    throw httpApiError('HTTP_ERR_VALIDATION', `unknown ${what === 'body' ? 'field' : 'parameter'} "${field}"`, field);
  }
  const field = issue.path.map(String).join('.');
  if (field === '') {
    throw httpApiError('HTTP_ERR_VALIDATION', what === 'body' ? `the body must be a JSON object: ${issue.message}` : issue.message);
  }
  throw httpApiError('HTTP_ERR_VALIDATION', `${field}: ${issue.message}`, field);
}
