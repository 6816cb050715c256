import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { routingRuleSchema } from '../../../server/config/routing-rule-config.js';
import { RuleRoutingEngine } from '../../../server/routing/rule-routing-engine.js';
import { routingRequest, partyOf } from './routing-fixtures.js';

/**
 * docs/routing.md is the specification of the routing rules: every example
 * in it (rules, then requests each followed by the decision) runs here, so
 * the document cannot drift from what the engine does.
 */
const doc = readFileSync(new URL('../../../docs/routing.md', import.meta.url), 'utf8');

interface DocExample {
  title: string;
  rulesYaml: string;
  cases: Array<{ request: string; decision: unknown }>;
}

function examples(): DocExample[] {
  const out: DocExample[] = [];
  const sections = doc.split(/^### /m).slice(1).filter((s) => s.startsWith('Example'));
  for (const section of sections) {
    const title = section.slice(0, section.indexOf('\n'));
    const blocks = [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], text: m[2] }));
    const [rules, ...rest] = blocks;
    if (rules?.lang !== 'yaml') throw new Error(`${title}: the first block must be the yaml rules`);
    const cases: DocExample['cases'] = [];
    for (let i = 0; i < rest.length; i += 2) {
      const [req, dec] = [rest[i], rest[i + 1]];
      if (req?.lang !== 'sip' || dec?.lang !== 'json') throw new Error(`${title}: expected a sip block followed by a json block`);
      cases.push({ request: req.text, decision: JSON.parse(dec.text) as unknown });
    }
    out.push({ title, rulesYaml: rules.text, cases });
  }
  return out;
}

describe('docs/routing.md examples', () => {
  const all = examples();

  it('finds the examples of the document', () => {
    expect(all.length).toBeGreaterThanOrEqual(7);
    // Every request shown anywhere in the document is one of the cases run below.
    const requestsInDoc = doc.match(/^```sip$/gm)?.length ?? 0;
    expect(all.reduce((n, e) => n + e.cases.length, 0)).toBe(requestsInDoc);
    expect(requestsInDoc).toBeGreaterThanOrEqual(19);
  });

  for (const example of all) {
    describe(example.title, () => {
      const config = parseYaml(example.rulesYaml) as { routing: { rules: unknown } };
      const rules = z.array(routingRuleSchema).parse(config.routing.rules);
      const engine = new RuleRoutingEngine({ rules });
      example.cases.forEach(({ request, decision }, i) => {
        const firstLine = request.slice(0, request.indexOf('\n'));
        it(`request ${i + 1} (${firstLine}) → ${decision === null ? 'no match' : (decision as { service: string }).service}`, () => {
          const req = routingRequest(request);
          expect(engine.route(req, partyOf(req)) ?? null).toEqual(decision);
        });
      });
    });
  }
});
