/**
 * Mutations of SIP messages for fuzzing the parser: bit flips, truncations,
 * repeated and oversized headers, byte insertions and random bytes. A small
 * seeded PRNG keeps every run reproducible from its seed.
 */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  /** xorshift32: fast, reproducible, good enough for choosing mutations. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

const INTERESTING = ['\r\n', '\r', '\n', ' ', '\t', ':', ';', ',', '=', '"', '\\', '<', '>', '%', '%0', '%00', '@', '[', ']', '?', '&', '\0', '\u00ff', 'z9hG4bK', 'SIP/2.0', '4294967296', '-1', '99999999999999999999'];

export type Mutation = (input: Uint8Array, rnd: SeededRandom) => Uint8Array;

const enc = new TextEncoder();

function lines(input: Uint8Array): string[] {
  return Buffer.from(input).toString('latin1').split('\r\n');
}
function join(ls: string[]): Uint8Array {
  return Uint8Array.from(Buffer.from(ls.join('\r\n'), 'latin1'));
}

export const MUTATIONS: Record<string, Mutation> = {
  bitFlip(input, rnd) {
    const out = input.slice();
    const flips = 1 + rnd.int(8);
    for (let i = 0; i < flips && out.length; i++) out[rnd.int(out.length)] ^= 1 << rnd.int(8);
    return out;
  },
  truncate(input, rnd) {
    return input.slice(0, rnd.int(input.length + 1));
  },
  randomBytes(_input, rnd) {
    const out = new Uint8Array(rnd.int(2048));
    for (let i = 0; i < out.length; i++) out[i] = rnd.int(256);
    return out;
  },
  insertInteresting(input, rnd) {
    const at = rnd.int(input.length + 1);
    const ins = enc.encode(rnd.pick(INTERESTING));
    const out = new Uint8Array(input.length + ins.length);
    out.set(input.subarray(0, at));
    out.set(ins, at);
    out.set(input.subarray(at), at + ins.length);
    return out;
  },
  deleteRange(input, rnd) {
    const a = rnd.int(input.length + 1);
    const b = Math.min(input.length, a + rnd.int(64));
    const out = new Uint8Array(input.length - (b - a));
    out.set(input.subarray(0, a));
    out.set(input.subarray(b), a);
    return out;
  },
  repeatHeader(input, rnd) {
    const ls = lines(input);
    if (ls.length < 3) return input;
    const i = 1 + rnd.int(ls.length - 2);
    const copies = 1 + rnd.int(rnd.int(10) === 0 ? 5000 : 20);
    ls.splice(i, 0, ...Array(copies).fill(ls[i]));
    return join(ls);
  },
  oversizeHeader(input, rnd) {
    const ls = lines(input);
    if (ls.length < 3) return input;
    const i = 1 + rnd.int(ls.length - 2);
    ls[i] = ls[i] + rnd.pick(INTERESTING).repeat(1 + rnd.int(20000));
    return join(ls);
  },
  swapLines(input, rnd) {
    const ls = lines(input);
    if (ls.length < 3) return input;
    const a = rnd.int(ls.length);
    const b = rnd.int(ls.length);
    [ls[a], ls[b]] = [ls[b], ls[a]];
    return join(ls);
  },
  spliceMessages(input, rnd) {
    // Half of this message followed by random bytes of itself.
    const cut = rnd.int(input.length + 1);
    const from = rnd.int(input.length + 1);
    const out = new Uint8Array(cut + (input.length - from));
    out.set(input.subarray(0, cut));
    out.set(input.subarray(from), cut);
    return out;
  },
};

const NAMES = Object.keys(MUTATIONS);

/** Applies 1–3 random mutations. */
export function mutate(input: Uint8Array, rnd: SeededRandom): Uint8Array {
  let out = input;
  const n = 1 + rnd.int(3);
  for (let i = 0; i < n; i++) out = MUTATIONS[NAMES[rnd.int(NAMES.length)]](out, rnd);
  return out;
}
