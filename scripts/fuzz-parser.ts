/**
 * Long fuzz run of the SIP parser over mutations of the RFC 4475 corpus.
 *   npm run fuzz -- [--seed N] [--count N] [--seconds N]
 * Stops at the first input that throws anything but SipParseError, writes
 * it to fuzz-crash-<seed>-<i>.bin and exits 1. Prints progress every 10 s.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { exerciseMessage } from '../test/support/exercise-message.js';
import { mutate, SeededRandom } from '../test/support/sip-mutator.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const seed = arg('seed', Date.now() % 2 ** 31);
const count = arg('count', Infinity);
const seconds = arg('seconds', count === Infinity ? 60 : Infinity);

const dir = new URL('../test/fixtures/rfc4475/', import.meta.url);
const corpus = readdirSync(dir)
  .filter((f) => f.endsWith('.dat'))
  .map((f) => new Uint8Array(readFileSync(new URL(f, dir))));

const rnd = new SeededRandom(seed);
const started = performance.now();
let lastReport = started;
const counts = { ok: 0, rejected: 0 };
let slowest = 0;
console.log(`fuzzing with seed ${seed} (${count === Infinity ? `${seconds} s` : `${count} inputs`})`);
for (let i = 0; i < count; i++) {
  const now = performance.now();
  if ((now - started) / 1000 > seconds) break;
  if (now - lastReport > 10_000) {
    lastReport = now;
    console.log(`  ${i} inputs, ${counts.ok} parsed, ${counts.rejected} refused, slowest ${slowest.toFixed(2)} ms`);
  }
  const input = mutate(rnd.pick(corpus), rnd);
  const t0 = performance.now();
  try {
    counts[exerciseMessage(input)]++;
  } catch (e) {
    const file = `fuzz-crash-${seed}-${i}.bin`;
    writeFileSync(file, input);
    console.error(`input ${i} threw ${(e as Error).stack ?? String(e)}\nsaved to ${file}`);
    process.exit(1);
  }
  slowest = Math.max(slowest, performance.now() - t0);
}
const total = counts.ok + counts.rejected;
const secs = (performance.now() - started) / 1000;
console.log(`done: ${total} inputs in ${secs.toFixed(1)} s (${Math.round(total / secs)}/s), ${counts.ok} parsed, ${counts.rejected} refused with SipParseError, slowest ${slowest.toFixed(2)} ms, nothing else thrown`);
