/**
 * A failed call of the relay's HTTP API: its status and the error body's
 * `code` and `message` (docs/api.md, "Conventions").
 */
export class RelayHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RelayHttpError';
  }
}

/**
 * The relay's HTTP API as the portal and the console call it: JSON in and
 * out, a bearer token when given, the error body's code kept.
 *
 * @example
 * ```ts
 * const http = new RelayHttp('');          // same origin as the portal
 * const { sessions } = await http.getJson<{ sessions: unknown[] }>('/api/v1/me/sessions', token);
 * ```
 */
export class RelayHttp {
  private readonly fetchImpl: typeof fetch;

  constructor(
    /** Base URL, `''` for the page's own origin. */
    readonly base: string,
    fetchImpl?: typeof fetch,
  ) {
    this.fetchImpl = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** GET `path`; resolves with the parsed JSON, rejects with {@link RelayHttpError}. */
  async getJson<T>(path: string, bearer?: string, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    let response: Response;
    try {
      response = await this.fetchImpl(this.base + path, { headers, signal, cache: 'no-store' });
    } catch (e) {
      if ((e as { name?: string }).name === 'AbortError') throw e;
      throw new RelayHttpError(0, 'NETWORK', 'The relay cannot be reached.');
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      throw new RelayHttpError(
        response.status,
        typeof err?.code === 'string' ? err.code : `HTTP_${response.status}`,
        typeof err?.message === 'string' ? err.message : `${response.status} ${response.statusText}`,
      );
    }
    return body as T;
  }
}
