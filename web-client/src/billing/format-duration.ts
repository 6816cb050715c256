/**
 * A session timer: `0:07`, `1:05:09`. Whole seconds, rounded down, as a
 * clock shows them.
 *
 * @example
 * ```ts
 * formatDuration(65_400); // "1:05"
 * formatDuration(3_725_000); // "1:02:05"
 * ```
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * A duration in words for lists and screen readers: `1 min 5 s`, `2 h 3 min`.
 *
 * @example
 * ```ts
 * describeDuration(65_000); // "1 min 5 s"
 * ```
 */
export function describeDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return s > 0 ? `${m} min ${s} s` : `${m} min`;
  return `${s} s`;
}
