import { describe, expect, it } from 'vitest';
import { routingRuleSchema } from '../../../server/config/routing-rule-config.js';

describe('routing rule configuration', () => {
  it('expands plain values to { equals } and fills defaults', () => {
    const rule = routingRuleSchema.parse({
      match: { requestUri: { user: 'books' }, headers: { 'X-Shop': 'a' }, body: { 'item.count': 2, gift: true, note: null } },
      service: 'bookstore',
    });
    expect(rule).toEqual({
      match: {
        requestUri: { user: { equals: 'books', ignoreCase: false } },
        headers: { 'X-Shop': { equals: 'a', ignoreCase: false } },
        body: {
          'item.count': { equals: 2, ignoreCase: false },
          gift: { equals: true, ignoreCase: false },
          note: { equals: null, ignoreCase: false },
        },
      },
      service: 'bookstore',
      facts: {},
    });
  });

  it('accepts every matcher kind and template reference', () => {
    const rule = routingRuleSchema.parse({
      name: 'all-kinds',
      match: {
        requestUri: { host: { regex: '(?<sub>[a-z]+)\\.portal\\.test', ignoreCase: true } },
        from: { user: { oneOf: ['alice', 'bob'] } },
        to: { user: { present: true } },
      },
      service: 'shop-${match.sub}',
      facts: {
        who: '${from.user}',
        where: '${requestUri.host}',
        via: '${header.User-Agent}',
        what: '${body.item.sku}',
        to: '${to.user}',
        priority: 2,
        vip: false,
      },
    });
    expect(rule.facts).toMatchObject({ priority: 2, vip: false, who: '${from.user}' });
  });

  it('refuses a matcher with no kind, an empty oneOf, a bad header name and an unclosed template', () => {
    const result = routingRuleSchema.safeParse({
      match: { from: { user: { ignoreCase: true } }, to: { user: { oneOf: [] } }, headers: { 'Bad Header': 'x' } },
      service: '${requestUri.user',
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'match.from.user: give exactly one of: equals, oneOf, regex, present',
        'match.to.user.oneOf: must not be empty',
        'match.headers.Bad Header: expected a header name',
        'service: has an unclosed "${"',
      ]),
    );
  });
});
