import { css } from 'lit';

/**
 * What every element of the portal and the console shares: the colour and
 * spacing tokens (CSS custom properties set on the page, so a deployment
 * can re-theme them), real buttons with a visible focus ring, and the
 * small utility classes.
 */
export const sharedStyles = css`
  :host {
    --_accent: var(--siprelay-accent, #1d4ed8);
    --_accent-ink: var(--siprelay-accent-ink, #ffffff);
    --_ink: var(--siprelay-ink, #111827);
    --_muted: var(--siprelay-muted, #4b5563);
    --_line: var(--siprelay-line, #d1d5db);
    --_surface: var(--siprelay-surface, #ffffff);
    --_tint: var(--siprelay-tint, #f3f4f6);
    --_danger: var(--siprelay-danger, #b91c1c);
    --_ok: var(--siprelay-ok, #047857);
    --_warn: var(--siprelay-warn, #92400e);
    --_radius: 10px;
    color: var(--_ink);
    font: inherit;
    box-sizing: border-box;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  button,
  input,
  select {
    font: inherit;
    color: inherit;
  }
  button {
    border: 1px solid var(--_line);
    background: var(--_surface);
    border-radius: 8px;
    padding: 0.45rem 0.9rem;
    min-height: 2.5rem;
    cursor: pointer;
  }
  button.primary {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--_accent-ink);
    font-weight: 600;
  }
  button.danger {
    color: var(--_danger);
    border-color: currentColor;
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  a:focus-visible,
  iframe:focus-visible,
  summary:focus-visible {
    outline: 3px solid var(--siprelay-focus, #f59e0b);
    outline-offset: 2px;
  }
  input,
  select {
    border: 1px solid var(--_line);
    border-radius: 8px;
    padding: 0.45rem 0.6rem;
    min-height: 2.5rem;
    background: var(--_surface);
    min-width: 0;
  }
  .muted {
    color: var(--_muted);
  }
  .problem {
    border-left: 4px solid var(--_danger);
    background: #fef2f2;
    padding: 0.6rem 0.8rem;
    border-radius: 6px;
  }
  .problem strong {
    color: var(--_danger);
  }
  .note {
    border-left: 4px solid var(--_accent);
    background: #eff6ff;
    padding: 0.5rem 0.8rem;
    border-radius: 6px;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  .money,
  .timer {
    font-variant-numeric: tabular-nums;
  }
`;
