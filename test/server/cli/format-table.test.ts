import { describe, expect, it } from 'vitest';
import { formatInstant, formatTable } from '../../../server/cli/format-table.js';

describe('formatTable', () => {
  const columns = [
    { header: 'NAME', value: (r: { name: string; n: number | null }) => r.name },
    { header: 'N', value: (r: { name: string; n: number | null }) => r.n },
  ];

  it('pads columns to their widest value and shows missing values as "-"', () => {
    expect(formatTable([{ name: 'alice', n: 1 }, { name: 'al', n: null }], columns)).toBe('NAME   N\nalice  1\nal     -\n');
  });

  it('prints just the header for no rows', () => {
    expect(formatTable([], columns)).toBe('NAME  N\n');
  });
});

describe('formatInstant', () => {
  it('writes epoch milliseconds as UTC ISO-8601 to the second', () => {
    expect(formatInstant(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05Z');
    expect(formatInstant(null)).toBe('-');
  });
});
