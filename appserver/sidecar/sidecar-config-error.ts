/**
 * A sidecar configuration that does not validate; `message` names every bad
 * key (`app.url: expected an http(s) URL`).
 *
 * @example
 * ```ts
 * try { loadSidecarConfig('sidecar.yaml'); } catch (e) { if (e instanceof SidecarConfigError) console.error(e.message); }
 * ```
 */
export class SidecarConfigError extends Error {
  override readonly name = 'SidecarConfigError';
  readonly code = 'SIDECAR_ERR_CONFIG';
}
