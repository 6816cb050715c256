/**
 * CSV as RFC 4180 writes it: fields separated by commas, records ended by
 * CRLF, a field quoted when it holds a comma, a double quote, CR or LF, and a
 * double quote inside a quoted field written twice.
 *
 * Text that came from outside the relay (descriptions, SKUs, service names)
 * is also guarded against spreadsheet formula injection: a text field that
 * starts with `=`, `+`, `-`, `@`, TAB or CR would be run as a formula by
 * Excel or LibreOffice, so it gets a leading apostrophe (OWASP "CSV
 * Injection"). Numbers the relay itself writes (amounts like `-0.50`) are not
 * text fields and are left as they are.
 */

/** A cell: text from outside (guarded), a number the relay wrote, or empty. */
export type CsvValue = string | number | null | undefined;

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One field, quoted where RFC 4180 requires. Strings are guarded against
 * formula injection; numbers are written as they are; null and undefined
 * become an empty field.
 *
 * @example
 * ```ts
 * csvField('Bordeaux, 2015');   // '"Bordeaux, 2015"'
 * csvField('12" vinyl');        // '"12"" vinyl"'
 * csvField('=HYPERLINK("x")');  // '"\'=HYPERLINK(""x"")"'
 * csvField(-50);                // '-50'
 * ```
 */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let s: string;
  if (typeof value === 'number') {
    s = String(value);
  } else {
    s = FORMULA_START.test(value) ? "'" + value : value;
  }
  return NEEDS_QUOTES.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/**
 * A field the relay wrote itself (a decimal amount, an ISO instant, a
 * currency code): quoted where needed, never prefixed.
 */
export function csvRaw(value: string): string {
  return NEEDS_QUOTES.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
}

/** A tagged cell for {@link csvRecord}: `{ raw }` for values the relay formats itself. */
export type CsvCell = CsvValue | { readonly raw: string };

/** One record, CRLF-terminated. */
export function csvRecord(cells: readonly CsvCell[]): string {
  let out = '';
  for (let i = 0; i < cells.length; i++) {
    if (i > 0) out += ',';
    const c = cells[i];
    out += typeof c === 'object' && c !== null ? csvRaw(c.raw) : csvField(c);
  }
  return out + '\r\n';
}
