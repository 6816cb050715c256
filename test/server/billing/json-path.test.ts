import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatJsonPath } from '../../../server/billing/json-path.js';

describe('JSON paths in error messages', () => {
  it.each([
    [['items', 2, 'quantity'], 'items[2].quantity'],
    [['refundOf'], 'refundOf'],
    [[0], '[0]'],
    [[], ''],
    [['unit price'], '["unit price"]'],
  ])('%j is written %s', (path, text) => {
    expect(formatJsonPath(path)).toBe(text);
  });

  it('escapes what the sender wrote so that it stays one line of ASCII', () => {
    expect(formatJsonPath(['a\r\nVia: x'])).toBe('["a\\r\\nVia: x"]');
    expect(formatJsonPath(['é'])).toBe('["\\u00e9"]');
  });

  it('cuts long keys', () => {
    expect(formatJsonPath(['k'.repeat(1000)]).length).toBeLessThan(50);
  });

  it('property: any key gives printable ASCII only', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.nat()), { maxLength: 5 }), (path) => {
        expect(formatJsonPath(path)).toMatch(/^[\x20-\x7e]*$/);
      }),
      { numRuns: 500 },
    );
  });
});
