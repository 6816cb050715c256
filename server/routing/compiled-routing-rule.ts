import {
  TEMPLATE_REFERENCE,
  type JsonMatcherConfig,
  type RoutingRuleConfig,
  type TextMatcherConfig,
} from '../config/routing-rule-config.js';
import type { RouteDecision } from '../relay-ports.js';
import { findNestedQuantifier } from './nested-quantifier.js';
import type { RequestFacts, UriFact } from './request-facts.js';

/** Where a condition or a template reads its value. */
type FactRef =
  | { kind: 'uri'; fact: UriFact }
  | { kind: 'header'; name: string }
  | { kind: 'body'; path: readonly string[] }
  | { kind: 'match'; group: string };

/** Named groups captured by a rule's regexes while its conditions are checked. */
type Groups = Record<string, string>;

/** How rules are compiled; see {@link RuleRoutingEngineOptions} for the meaning of each. */
export interface RuleCompileOptions {
  maxRegexInputLength: number;
  maxFactLength: number;
  regexSafety: 'refuse' | 'warn';
  /** Told about each regex that `regexSafety: 'warn'` let through. */
  onUnsafeRegex: (rule: string, regex: string, fragment: string) => void;
}

/** Same rule as `serviceNameSchema` of the configuration: what a computed service name must look like. */
const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

interface Matcher {
  test(value: unknown, groups: Groups): boolean;
}

class EqualsMatcher implements Matcher {
  private readonly expected: string | number | boolean | null;
  constructor(
    expected: string | number | boolean | null,
    private readonly ignoreCase: boolean,
  ) {
    this.expected = typeof expected === 'string' && ignoreCase ? expected.toLowerCase() : expected;
  }
  test(value: unknown): boolean {
    if (typeof this.expected === 'string') {
      return typeof value === 'string' && (this.ignoreCase ? value.toLowerCase() : value) === this.expected;
    }
    // JSON types are compared strictly: 2 is not "2", false is not "false".
    return value === this.expected;
  }
}

class OneOfMatcher implements Matcher {
  private readonly strings = new Set<string>();
  private readonly others = new Set<number | boolean | null>();
  constructor(
    expected: ReadonlyArray<string | number | boolean | null>,
    private readonly ignoreCase: boolean,
  ) {
    for (const e of expected) {
      if (typeof e === 'string') this.strings.add(ignoreCase ? e.toLowerCase() : e);
      else this.others.add(e);
    }
  }
  test(value: unknown): boolean {
    if (typeof value === 'string') return this.strings.has(this.ignoreCase ? value.toLowerCase() : value);
    return (typeof value === 'number' || typeof value === 'boolean' || value === null) && this.others.has(value);
  }
}

class RegexMatcher implements Matcher {
  constructor(
    private readonly regex: RegExp,
    private readonly maxInput: number,
  ) {}
  test(value: unknown, groups: Groups): boolean {
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
    else return false;
    // Bounds the work of a polynomial pattern on a hostile header or body.
    if (text.length > this.maxInput) return false;
    const m = this.regex.exec(text);
    if (m === null) return false;
    if (m.groups) {
      for (const name in m.groups) {
        const g = m.groups[name];
        if (g !== undefined) groups[name] = g;
      }
    }
    return true;
  }
}

class PresentMatcher implements Matcher {
  constructor(private readonly present: boolean) {}
  test(value: unknown): boolean {
    return (value !== undefined) === this.present;
  }
}

interface Condition {
  ref: FactRef;
  matcher: Matcher;
}

/** Literal text and references, alternating as written. */
type Template = ReadonlyArray<string | FactRef>;

function readFact(ref: FactRef, facts: RequestFacts, groups: Groups): unknown {
  switch (ref.kind) {
    case 'uri':
      return facts.uri(ref.fact);
    case 'header':
      return facts.header(ref.name);
    case 'body':
      return facts.body(ref.path);
    case 'match':
      return groups[ref.group];
  }
}

function parseRef(text: string): FactRef {
  if (text.startsWith('header.')) return { kind: 'header', name: text.slice('header.'.length) };
  if (text.startsWith('body.')) return { kind: 'body', path: text.slice('body.'.length).split('.') };
  if (text.startsWith('match.')) return { kind: 'match', group: text.slice('match.'.length) };
  return { kind: 'uri', fact: text as UriFact };
}

function compileTemplate(source: string, where: string): Template {
  const parts: Array<string | FactRef> = [];
  let last = 0;
  for (const m of source.matchAll(/\$\{([^}]*)\}/g)) {
    if (!TEMPLATE_REFERENCE.test(m[1])) throw new TypeError(`${where}: "\${${m[1]}}" names nothing a rule can read`);
    if (m.index > last) parts.push(source.slice(last, m.index));
    parts.push(parseRef(m[1]));
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  return parts;
}

/** The template's text, or undefined when a reference in it has no scalar value. */
function renderTemplate(template: Template, facts: RequestFacts, groups: Groups): string | undefined {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const v = readFact(part, facts, groups);
    if (typeof v === 'string') out += v;
    else if (typeof v === 'number' || typeof v === 'boolean') out += String(v);
    else return undefined; // absent, null, an object or an array
  }
  return out;
}

/**
 * One routing rule compiled for matching: its conditions in a fixed order
 * (URI parts, then headers, then body fields, so that the cheap facts
 * reject a request before the body is parsed), its service template and
 * its facts. Semantics are those fixed in server/config/routing-rule-config.ts;
 * docs/routing.md explains them with examples.
 */
export class CompiledRoutingRule {
  private readonly conditions: Condition[] = [];
  private readonly service: Template;
  private readonly facts: Array<[name: string, value: Template | number | boolean]> = [];

  constructor(
    config: RoutingRuleConfig,
    /** Shown in logs: the rule's `name`, or `rules[<index>]`. */
    readonly name: string,
    private readonly options: RuleCompileOptions,
  ) {
    const m = config.match;
    const add = (ref: FactRef, matcher: TextMatcherConfig | JsonMatcherConfig | undefined, where: string) => {
      if (matcher !== undefined) this.conditions.push({ ref, matcher: this.compileMatcher(matcher, where) });
    };
    for (const part of ['requestUri', 'from', 'to'] as const) {
      add({ kind: 'uri', fact: `${part}.user` }, m?.[part]?.user, `match.${part}.user`);
      add({ kind: 'uri', fact: `${part}.host` }, m?.[part]?.host, `match.${part}.host`);
    }
    for (const [name, matcher] of Object.entries(m?.headers ?? {})) add({ kind: 'header', name }, matcher, `match.headers.${name}`);
    for (const [path, matcher] of Object.entries(m?.body ?? {})) add({ kind: 'body', path: path.split('.') }, matcher, `match.body.${path}`);
    this.service = compileTemplate(config.service, `${name}: service`);
    for (const [fact, value] of Object.entries(config.facts ?? {})) {
      this.facts.push([fact, typeof value === 'string' ? compileTemplate(value, `${name}: facts.${fact}`) : value]);
    }
  }

  /**
   * The decision of this rule for the request, or undefined when a
   * condition fails or the service cannot be computed (a reference without
   * a value, or a result that is not a service name): the next rule is
   * tried then. A fact whose template cannot be computed, or whose value
   * is longer than `maxFactLength`, is left out.
   */
  evaluate(facts: RequestFacts): RouteDecision | undefined {
    const groups = Object.create(null) as Groups;
    for (const c of this.conditions) {
      if (!c.matcher.test(readFact(c.ref, facts, groups), groups)) return undefined;
    }
    const service = renderTemplate(this.service, facts, groups);
    if (service === undefined || !SERVICE_NAME.test(service)) return undefined;
    const out: Record<string, string | number | boolean> = {};
    for (const [name, value] of this.facts) {
      if (typeof value !== 'object') {
        out[name] = value;
        continue;
      }
      const text = renderTemplate(value, facts, groups);
      if (text !== undefined && text.length <= this.options.maxFactLength) out[name] = text;
    }
    return { service, facts: out, rule: this.name };
  }

  private compileMatcher(m: TextMatcherConfig | JsonMatcherConfig, where: string): Matcher {
    const ignoreCase = m.ignoreCase ?? false;
    if (m.equals !== undefined) return new EqualsMatcher(m.equals, ignoreCase);
    if (m.oneOf !== undefined) return new OneOfMatcher(m.oneOf, ignoreCase);
    if (m.present !== undefined) return new PresentMatcher(m.present);
    if (m.regex !== undefined) {
      let regex: RegExp;
      try {
        // Anchored: the whole value must match (routing-rule-config.ts).
        regex = new RegExp(`^(?:${m.regex})$`, ignoreCase ? 'iu' : 'u');
      } catch (e) {
        throw new TypeError(`${this.name}: ${where}.regex ${JSON.stringify(m.regex)} does not compile: ${(e as Error).message}`);
      }
      const fragment = findNestedQuantifier(m.regex);
      if (fragment !== undefined) {
        if (this.options.regexSafety === 'refuse') {
          throw new TypeError(
            `${this.name}: ${where}.regex ${JSON.stringify(m.regex)} nests unbounded quantifiers (${fragment}), which can take exponential time on a hostile value; rewrite it, or set regexSafety: 'warn'`,
          );
        }
        this.options.onUnsafeRegex(this.name, m.regex, fragment);
      }
      return new RegexMatcher(regex, this.options.maxRegexInputLength);
    }
    throw new TypeError(`${this.name}: ${where} gives no matcher (equals, oneOf, regex or present)`);
  }
}
