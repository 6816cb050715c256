/**
 * Finds the regex shape that makes a backtracking engine (V8's) take
 * exponential time: an unbounded quantifier applied to a group that itself
 * contains an unbounded quantifier, such as `(a+)+`, `(\w*)*` or
 * `(?:x+y?){2,}`. On an input that almost matches, the engine tries every
 * way of splitting the input between the inner and outer repetitions.
 *
 * This is a conservative syntactic check, not a proof: it flags some
 * patterns that are in fact linear (`(\w+\.)*`, where the dot fixes each
 * split), and it does not see the other exponential shape, an alternation
 * whose branches overlap under a star (`(a|a)*`). docs/routing.md tells
 * operators both. The source is a JavaScript `u`-mode pattern that already
 * compiled, so the scan may assume well-formed syntax.
 *
 * Returns the offending group with its quantifier (`(a+)+`), or undefined.
 */
export function findNestedQuantifier(source: string): string | undefined {
  // One frame per open group: where it starts and whether it contains an
  // unbounded quantifier (directly or in a nested group).
  const frames: Array<{ start: number; unbounded: boolean }> = [{ start: 0, unbounded: false }];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i];
    if (c === '\\') {
      i = skipEscape(source, i);
      i = afterQuantifier(source, i, frames, undefined);
      continue;
    }
    if (c === '[') {
      i = skipClass(source, i);
      i = afterQuantifier(source, i, frames, undefined);
      continue;
    }
    if (c === '(') {
      frames.push({ start: i, unbounded: false });
      i = skipGroupPrefix(source, i + 1);
      continue;
    }
    if (c === ')') {
      const group = frames.length > 1 ? frames.pop()! : { start: 0, unbounded: false };
      const end = i + 1;
      const q = readQuantifier(source, end);
      if (q && q.unbounded && group.unbounded) return source.slice(group.start, q.end);
      const parent = frames[frames.length - 1];
      if (group.unbounded || (q && q.unbounded)) parent.unbounded = true;
      i = q ? q.end : end;
      continue;
    }
    i = afterQuantifier(source, i + 1, frames, c);
  }
  return undefined;
}

/** After an atom ending at `i`: consumes a quantifier, if any, and notes an unbounded one. */
function afterQuantifier(source: string, i: number, frames: Array<{ unbounded: boolean }>, atom: string | undefined): number {
  // `|`, `^` and `$` are not atoms a quantifier can follow in u-mode.
  if (atom === '|' || atom === '^' || atom === '$') return i;
  const q = readQuantifier(source, i);
  if (!q) return i;
  if (q.unbounded) frames[frames.length - 1].unbounded = true;
  return q.end;
}

/** A quantifier at `i` (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each optionally lazy). */
function readQuantifier(source: string, i: number): { unbounded: boolean; end: number } | undefined {
  const c = source[i];
  let unbounded: boolean;
  let end: number;
  if (c === '*' || c === '+') {
    unbounded = true;
    end = i + 1;
  } else if (c === '?') {
    unbounded = false;
    end = i + 1;
  } else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
    if (!m) return undefined;
    unbounded = m[2] !== undefined && m[3] === '';
    end = i + m[0].length;
  } else {
    return undefined;
  }
  if (source[end] === '?') end++;
  return { unbounded, end };
}

function skipEscape(source: string, i: number): number {
  const next = source[i + 1];
  // \p{…}, \P{…}, \u{…} and \k<…> carry a bracketed argument.
  if ((next === 'p' || next === 'P' || next === 'u') && source[i + 2] === '{') {
    const close = source.indexOf('}', i + 3);
    return close < 0 ? source.length : close + 1;
  }
  if (next === 'k' && source[i + 2] === '<') {
    const close = source.indexOf('>', i + 3);
    return close < 0 ? source.length : close + 1;
  }
  return i + 2;
}

function skipClass(source: string, i: number): number {
  i++;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      i = skipEscape(source, i);
      continue;
    }
    if (c === ']') return i + 1;
    i++;
  }
  return i;
}

/** Skips `?:`, `?=`, `?!`, `?<=`, `?<!` and `?<name>` after an opening parenthesis. */
function skipGroupPrefix(source: string, i: number): number {
  if (source[i] !== '?') return i;
  const next = source[i + 1];
  if (next === ':' || next === '=' || next === '!') return i + 2;
  if (next === '<') {
    if (source[i + 2] === '=' || source[i + 2] === '!') return i + 3;
    const close = source.indexOf('>', i + 2);
    return close < 0 ? source.length : close + 1;
  }
  return i + 1;
}
