import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findHeaderEnd } from '../../../sip/message/parser.js';

/** The definition, one byte at a time: just past the first LF followed by LF or CR LF, at or after `from`. */
function reference(data: Uint8Array, from: number): number {
  for (let p = from; p < data.length; p++) {
    if (data[p] !== 10) continue;
    if (data[p + 1] === 10) return p + 2;
    if (data[p + 1] === 13 && data[p + 2] === 10) return p + 3;
  }
  return -1;
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe('findHeaderEnd', () => {
  it('finds the empty line after CRLF and after bare LF headers', () => {
    expect(findHeaderEnd(bytes('OPTIONS sip:a SIP/2.0\r\nA: b\r\n\r\nbody'), 0)).toBe(31);
    expect(findHeaderEnd(bytes('OPTIONS sip:a SIP/2.0\nA: b\n\nbody'), 0)).toBe(28);
    expect(findHeaderEnd(bytes('X\n\r\n'), 0)).toBe(4);
    expect(findHeaderEnd(bytes('\n\n'), 0)).toBe(2);
    expect(findHeaderEnd(bytes('\r\n\r\n'), 0)).toBe(4);
    expect(findHeaderEnd(bytes('\r\n\r\n'), 1)).toBe(4);
    expect(findHeaderEnd(bytes('\r\n\r\n'), 2)).toBe(-1);
  });

  it('is -1 while the empty line has not arrived (a stream cut anywhere)', () => {
    const whole = bytes('INVITE sip:a SIP/2.0\r\nVia: x\r\nTo: y\r\n\r\n');
    for (let cut = 0; cut < whole.length; cut++) expect(findHeaderEnd(whole.subarray(0, cut), 0)).toBe(-1);
    expect(findHeaderEnd(whole, 0)).toBe(whole.length);
  });

  it('property: agrees with the byte-by-byte definition for any bytes of CR, LF and text, from any offset', () => {
    const byte = fc.constantFrom(10, 13, 65, 32);
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 40 }), fc.nat(41), (arr, from) => {
        const data = Uint8Array.from(arr);
        expect(findHeaderEnd(data, from)).toBe(reference(data, from));
      }),
      { numRuns: 20000, seed: 4475 },
    );
  });
});
