import { describe, expect, it } from 'vitest';
import { isBetterResponse, relayedStatus, responseRank } from '../../../server/proxy/best-response.js';

function best(statuses: number[]): number {
  let b: number | undefined;
  for (const s of statuses) if (isBetterResponse(s, b)) b = s;
  return b!;
}

describe('best response (RFC 3261 §16.7 step 6)', () => {
  it('prefers any 6xx over every other class', () => {
    expect(best([302, 404, 603, 500])).toBe(603);
  });

  it('otherwise takes the lowest class', () => {
    expect(best([503, 486, 302])).toBe(302);
    expect(best([500, 486])).toBe(486);
  });

  it('within 4xx prefers responses that tell the client how to resubmit (401, 407, 415, 420, 484)', () => {
    expect(best([404, 486, 407])).toBe(407);
    expect(best([480, 420])).toBe(420);
  });

  it('otherwise takes the lowest code in the class, whatever the order of arrival', () => {
    expect(best([486, 404, 503])).toBe(404);
    expect(best([404, 486, 503])).toBe(404);
    expect(best([503, 500])).toBe(500);
  });

  it('stands in with 500 for a 503 the proxy made itself (transport error), and keeps every other status', () => {
    expect(relayedStatus(503)).toBe(500);
    expect(relayedStatus(486)).toBe(486);
    expect(relayedStatus(500)).toBe(500);
  });

  it('ranks strictly, so no two statuses tie', () => {
    const ranks = new Set<number>();
    for (let s = 300; s < 700; s++) ranks.add(responseRank(s));
    expect(ranks.size).toBe(400);
  });
});
