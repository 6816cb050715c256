/**
 * An ordered, case-insensitive list of `;name[=value]` parameters, as found on
 * URIs (RFC 3261 §19.1.1) and on header values (generic-param, §25.1).
 * Values are kept exactly as written (a quoted-string keeps its quotes) so
 * that re-serialising changes nothing that was not touched.
 */
export class Params {
  private readonly names: string[] = [];
  private readonly keys: string[] = [];
  private readonly vals: (string | null)[] = [];

  /** Number of parameters. */
  get size(): number {
    return this.names.length;
  }

  private indexOf(name: string): number {
    const key = lower(name);
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return i;
    return -1;
  }

  /** The value of `name`: a string, `null` for a parameter without value, `undefined` when absent. */
  get(name: string): string | null | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.vals[i];
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  /** Sets or replaces `name`; `null` writes the bare name (`;lr`). */
  set(name: string, value: string | null = null): this {
    const i = this.indexOf(name);
    if (i >= 0) this.vals[i] = value;
    else {
      this.names.push(name);
      this.keys.push(lower(name));
      this.vals.push(value);
    }
    return this;
  }

  delete(name: string): boolean {
    const i = this.indexOf(name);
    if (i < 0) return false;
    this.names.splice(i, 1);
    this.keys.splice(i, 1);
    this.vals.splice(i, 1);
    return true;
  }

  /** Adds without checking for an existing entry (used by parsers; duplicates are kept as written). */
  appendRaw(name: string, value: string | null): void {
    this.names.push(name);
    this.keys.push(lower(name));
    this.vals.push(value);
  }

  *entries(): IterableIterator<[name: string, value: string | null]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i], this.vals[i]];
  }

  /** Lower-case names, in order. */
  keyList(): readonly string[] {
    return this.keys;
  }

  clone(): Params {
    const p = new Params();
    for (let i = 0; i < this.names.length; i++) p.appendRaw(this.names[i], this.vals[i]);
    return p;
  }

  /** `;a=1;b` — with the given separator before each parameter. */
  toString(separator = ';'): string {
    let out = '';
    for (let i = 0; i < this.names.length; i++) {
      out += separator + this.names[i];
      const v = this.vals[i];
      if (v !== null) out += '=' + v;
    }
    return out;
  }
}

/** toLowerCase without allocating for names that are lower-case already (almost all). */
function lower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
    if (c >= 128) return s.toLowerCase();
  }
  return s;
}
