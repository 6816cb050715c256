const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;
/** Keys longer than this are cut in messages; they come from untrusted JSON. */
const MAX_KEY_CHARS = 32;

/**
 * Renders a validation path as `items[2].quantity` for error messages, HTTP
 * error bodies and SIP reason phrases. Keys that are not plain identifiers
 * come from the sender's JSON and may hold anything (CR LF, quotes), so they
 * are written as JSON strings (which escapes control characters) and cut to
 * 32 characters: the rendered path is always safe on one header line.
 *
 * @example
 * ```ts
 * formatJsonPath(['items', 2, 'quantity']); // "items[2].quantity"
 * formatJsonPath(['bad\r\nkey']);           // '["bad\\r\\nkey"]'
 * formatJsonPath([]);                       // "" (the whole body)
 * ```
 */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
    } else {
      const s = String(key);
      if (IDENTIFIER.test(s)) {
        out += out === '' ? s : '.' + s;
      } else {
        const cut = s.length > MAX_KEY_CHARS ? s.slice(0, MAX_KEY_CHARS) + '…' : s;
        // JSON.stringify escapes C0 controls; also escape the non-ASCII so the
        // result is plain ASCII, fit for a SIP reason phrase.
        out += '[' + JSON.stringify(cut).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + ']';
      }
    }
  }
  return out;
}

/** The parts of a zod issue that {@link issuePath} and {@link issueMessage} read. */
interface ValidationIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly keys?: readonly string[];
}

/**
 * The path of the field an issue is about. For an unknown key that is the
 * key itself, which zod reports beside the path of the object holding it.
 */
export function issuePath(issue: ValidationIssue): PropertyKey[] {
  if (issue.code === 'unrecognized_keys' && issue.keys && issue.keys.length > 0) {
    return [...issue.path, issue.keys[0]];
  }
  return [...issue.path];
}

/** The message of an issue, worded for the field {@link issuePath} names. */
export function issueMessage(issue: ValidationIssue): string {
  if (issue.code === 'unrecognized_keys') return 'is not a known field';
  return issue.message;
}

/**
 * A zod `error` option that says "is required" when the field is missing and
 * `text` when it is there but wrong.
 */
export function fieldError(text: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : text);
}
