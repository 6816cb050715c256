import { css } from 'lit';

/** Tables and panels of the operator console. */
export const consoleStyles = css`
  :host {
    display: grid;
    gap: 0.8rem;
    min-width: 0;
  }
  h2 {
    margin: 0;
    font-size: 1.1rem;
  }
  .scroll {
    overflow-x: auto;
    border: 1px solid var(--_line);
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  table {
    border-collapse: collapse;
    width: 100%;
    min-width: 40rem;
  }
  th,
  td {
    text-align: left;
    padding: 0.4rem 0.6rem;
    border-bottom: 1px solid var(--_line);
    vertical-align: top;
  }
  .num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    gap: 0.6rem;
    align-items: end;
  }
  label {
    display: grid;
    gap: 0.2rem;
    font-size: 0.9rem;
  }
  .up {
    color: var(--_ok);
    font-weight: 600;
  }
  .down {
    color: var(--_danger);
    font-weight: 600;
  }
  ol.feed {
    margin: 0;
    padding-left: 1.2rem;
  }
`;
