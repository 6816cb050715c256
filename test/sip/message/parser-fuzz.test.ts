import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSipParseError } from '../../../sip/errors.js';
import { parseMessage } from '../../../sip/message/parser.js';
import { exerciseMessage } from '../../support/exercise-message.js';
import { mutate, MUTATIONS, SeededRandom } from '../../support/sip-mutator.js';

/**
 * A bounded fuzz run with a fixed seed over mutations of the RFC 4475
 * corpus: nothing may throw anything but SipParseError. `npm run fuzz`
 * runs the same loop for as long as you like with any seed.
 */
const dir = new URL('../../fixtures/rfc4475/', import.meta.url);
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith('.dat'))
  .sort()
  .map((f) => new Uint8Array(readFileSync(new URL(f, dir))));

describe('parser fuzzing', () => {
  it('every corpus message is parsed or refused with the typed error', () => {
    for (const m of corpus) expect(['ok', 'rejected']).toContain(exerciseMessage(m));
  });

  it('20 000 seeded mutations throw nothing but SipParseError', () => {
    const rnd = new SeededRandom(4475);
    const counts = { ok: 0, rejected: 0 };
    for (let i = 0; i < 20_000; i++) {
      const input = mutate(rnd.pick(corpus), rnd);
      try {
        counts[exerciseMessage(input)]++;
      } catch (e) {
        throw new Error(`mutation ${i} (seed 4475) threw ${String(e)}\n${Buffer.from(input).toString('latin1').slice(0, 400)}`);
      }
    }
    // The run must exercise both outcomes, or it tests nothing.
    expect(counts.ok).toBeGreaterThan(1000);
    expect(counts.rejected).toBeGreaterThan(1000);
  });

  it('has every kind of mutation', () => {
    expect(Object.keys(MUTATIONS).sort()).toEqual(
      ['bitFlip', 'deleteRange', 'insertInteresting', 'oversizeHeader', 'randomBytes', 'repeatHeader', 'spliceMessages', 'swapLines', 'truncate'].sort(),
    );
  });
});

/**
 * Parse time must grow linearly with input: for adversarial shapes, 16x the
 * input may cost about 16x the time; quadratic behaviour would cost 256x.
 * The bound (64x, fastest of several runs) leaves room for noise and for
 * the garbage collector, which is not linear: the 8 000 parsed Via values
 * of the large input live long enough to be copied by scavenges and cost
 * about twice as much each as the 500 of the small one (vitest.config.ts
 * gives the workers a larger young generation, which keeps it at that).
 */
describe('parse time grows linearly with the input', () => {
  const base = readFileSync(new URL('wsinv.dat', dir), 'latin1');
  const shapes: Record<string, (n: number) => string> = {
    'a long comma list in Via': (n) => base.replace('Via  :', 'Via: ' + 'SIP/2.0/UDP h;branch=z9hG4bK1,'.repeat(n) + ' x'),
    'many URI parameters in Contact': (n) => base.replace('m:"Quoted', 'm: <sip:a@b' + ';p'.repeat(n) + '>, "Quoted'),
    'a long folded header': (n) => base.replace('NewFangledHeader:', 'NewFangledHeader:' + ' a\r\n'.repeat(n)),
    'a long quoted display name with escapes': (n) => base.replace('from   : "J Rosenberg', 'from   : "' + '\\"'.repeat(n)),
    'many escapes in the Request-URI': (n) => base.replace('sip:vivekg@', 'sip:' + '%41'.repeat(n) + '@'),
    // Long enough at both sizes that TextDecoder takes its path for large inputs at both.
    'a long token without a colon': (n) => base.replace('s :', 'X' + 'y'.repeat(n * 400)),
  };
  const time = (s: string) => {
    const bytes = Buffer.from(s, 'latin1');
    const runs: number[] = [];
    for (let r = 0; r < 9; r++) {
      const t0 = performance.now();
      for (let k = 0; k < 3; k++) {
        try {
          const m = parseMessage(bytes, { maxMessageSize: 1 << 24, maxHeaders: 1 << 20 });
          void m.contacts;
        } catch (e) {
          if (!isSipParseError(e)) throw e;
        }
      }
      runs.push(performance.now() - t0);
    }
    // The fastest run is the one least disturbed by other processes.
    return Math.min(...runs);
  };
  it.each(Object.keys(shapes))('%s', (name) => {
    time(shapes[name](500)); // warm-up: the first runs measure the JIT, not the parser
    const small = time(shapes[name](500));
    const large = time(shapes[name](8_000));
    expect(large / Math.max(small, 0.01), `small ${small.toFixed(3)} ms, large ${large.toFixed(3)} ms`).toBeLessThan(64);
  });
});
