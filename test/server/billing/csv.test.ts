import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, csvRaw, csvRecord } from '../../../server/billing/csv.js';

/** A reader for RFC 4180 text, to check that what we write reads back. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      field += c;
      i++;
    }
  }
  return records;
}

describe('CSV (RFC 4180)', () => {
  it.each([
    ['plain', 'plain'],
    ['Bordeaux, 2015', '"Bordeaux, 2015"'],
    ['12" vinyl', '"12"" vinyl"'],
    ['two\r\nlines', '"two\r\nlines"'],
    ['line\nfeed', '"line\nfeed"'],
    ['', ''],
  ])('writes %j as %j', (value, written) => {
    expect(csvField(value)).toBe(written);
  });

  it('writes numbers as they are and null as an empty field', () => {
    expect(csvField(-50)).toBe('-50');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
  });

  describe('guards text against spreadsheet formulas', () => {
    it.each([
      ['=HYPERLINK("http://evil","x")', '"\'=HYPERLINK(""http://evil"",""x"")"'],
      ['+1', "'+1"],
      ['-1+2', "'-1+2"],
      ['@SUM(A1)', "'@SUM(A1)"],
      ['\tTAB', "'\tTAB"],
    ])('%j becomes %j', (value, written) => {
      expect(csvField(value)).toBe(written);
    });

    it('but not the amounts the relay writes itself', () => {
      expect(csvRaw('-0.50')).toBe('-0.50');
      expect(csvRecord([{ raw: '-0.50' }, -50])).toBe('-0.50,-50\r\n');
    });
  });

  it('ends every record with CRLF', () => {
    expect(csvRecord(['a', 1, null, 'b,c'])).toBe('a,1,,"b,c"\r\n');
  });

  it('property: any fields read back unchanged (apart from the formula guard)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 6 }), { maxLength: 5 }), (rows) => {
        const text = rows.map((r) => csvRecord(r)).join('');
        const back = parseCsv(text);
        expect(back).toEqual(rows.map((r) => r.map((f) => (/^[=+\-@\t\r]/.test(f) ? "'" + f : f))));
      }),
      { numRuns: 500 },
    );
  });
});
