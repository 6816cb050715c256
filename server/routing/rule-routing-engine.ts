import type { SipRequest } from '../../sip/message/sip-request.js';
import { noopLogger, type SipLogger } from '../../sip/util/logger.js';
import type { RoutingRuleConfig } from '../config/routing-rule-config.js';
import type { AuthenticatedParty, RouteDecision, RoutingEngine } from '../relay-ports.js';
import { CompiledRoutingRule } from './compiled-routing-rule.js';
import { RequestFacts } from './request-facts.js';

/** Options of {@link RuleRoutingEngine}. Every limit has a default. */
export interface RuleRoutingEngineOptions {
  /** The validated `routing.rules` of the configuration, in order. */
  rules: readonly RoutingRuleConfig[];
  /** Largest JSON service-details body read, in bytes; a bigger one counts as absent. Default 16 384. */
  maxBodyBytes?: number;
  /** Deepest nesting of the JSON body; a deeper one counts as absent. Default 32. */
  maxBodyDepth?: number;
  /**
   * Longest value a `regex` matcher is run on; a longer one does not
   * match. Bounds the time of a slow (polynomial) pattern on a hostile
   * header. Default 1024 characters.
   */
  maxRegexInputLength?: number;
  /** Longest computed fact value; a longer one is left out of the decision. Default 1024 characters. */
  maxFactLength?: number;
  /**
   * What to do with a regex that nests unbounded quantifiers (`(a+)+`),
   * the shape that can take exponential time: `'refuse'` throws TypeError
   * at construction (default), `'warn'` logs it and keeps it.
   */
  regexSafety?: 'refuse' | 'warn';
  logger?: SipLogger;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`RuleRoutingEngineOptions.${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * The routing rules of the configuration (design brief claim 2, issue 3
 * item 5), compiled once: `route()` walks the rules in order and returns
 * the decision of the first that matches, or `undefined` (the relay then
 * answers 404). Facts are read lazily, once per request, and the body only
 * when a rule that gets that far reads it.
 *
 * ```ts
 * const routing = new RuleRoutingEngine({ rules: config.routing.rules });
 * const decision = routing.route(request, party);
 * // { service: 'wine', facts: { shop: 'cellar' }, rule: 'wine-by-body' }
 * ```
 *
 * `route()` never throws: a malformed header, a body that is not JSON, too
 * big or too deep, reads as an absent fact.
 */
export class RuleRoutingEngine implements RoutingEngine {
  private readonly rules: CompiledRoutingRule[];
  private readonly bodyLimits: { maxBytes: number; maxDepth: number };
  private readonly logger: SipLogger;

  constructor(options: RuleRoutingEngineOptions) {
    if (options === null || typeof options !== 'object' || !Array.isArray(options.rules)) {
      throw new TypeError('RuleRoutingEngineOptions.rules must be a list of routing rules');
    }
    const regexSafety = options.regexSafety ?? 'refuse';
    if (regexSafety !== 'refuse' && regexSafety !== 'warn') throw new TypeError(`RuleRoutingEngineOptions.regexSafety must be 'refuse' or 'warn'`);
    this.logger = options.logger ?? noopLogger;
    this.bodyLimits = {
      maxBytes: positiveInt(options.maxBodyBytes, 16_384, 'maxBodyBytes'),
      maxDepth: positiveInt(options.maxBodyDepth, 32, 'maxBodyDepth'),
    };
    const compileOptions = {
      maxRegexInputLength: positiveInt(options.maxRegexInputLength, 1024, 'maxRegexInputLength'),
      maxFactLength: positiveInt(options.maxFactLength, 1024, 'maxFactLength'),
      regexSafety,
      onUnsafeRegex: (rule: string, regex: string, fragment: string) =>
        this.logger.warn({ rule, regex, fragment }, 'routing rule regex nests unbounded quantifiers and may be slow on hostile input'),
    };
    this.rules = options.rules.map((rule, i) => new CompiledRoutingRule(rule, rule.name ?? `rules[${i}]`, compileOptions));
  }

  /** Number of rules. */
  get size(): number {
    return this.rules.length;
  }

  route(request: SipRequest, party: AuthenticatedParty): RouteDecision | undefined {
    try {
      const facts = new RequestFacts(request, party, this.bodyLimits);
      for (const rule of this.rules) {
        const decision = rule.evaluate(facts);
        if (decision !== undefined) return decision;
      }
      return undefined;
    } catch (e) {
      // Every fact reader catches its own faults; reaching here is a bug,
      // and a bug in routing must cost one request a 404, not the relay.
      this.logger.error({ err: e }, 'routing rules threw');
      return undefined;
    }
  }
}
