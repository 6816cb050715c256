import type { ProxyTarget } from './proxy-target.js';
import type { TargetBackoff } from './target-backoff.js';

/** The key a target is held under in the back-off table. */
export function targetKey(target: ProxyTarget): string {
  return target.key ?? (target.uri ? target.uri.toString() : (target.flowId ?? ''));
}

/**
 * `balance` mode's choice (issue 3 item 6: "chosen by weight and current
 * load"): among the targets not held back by Retry-After, those with the
 * least load per unit of weight; among equals, one drawn at random in
 * proportion to weight, so idle targets of equal standing share the calls.
 * Returns the index in `targets`, or -1 when every target is held back.
 */
export function pickBalanced(targets: readonly ProxyTarget[], backoff: TargetBackoff, random: () => number = Math.random): number {
  let best = Infinity;
  let tiedWeight = 0;
  const tied: number[] = [];
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    if (backoff.isHeld(targetKey(t))) continue;
    const weight = t.weight !== undefined && t.weight > 0 ? t.weight : 1;
    const score = (t.load ?? 0) / weight;
    if (score < best) {
      best = score;
      tied.length = 0;
      tiedWeight = 0;
    }
    if (score === best) {
      tied.push(i);
      tiedWeight += weight;
    }
  }
  if (tied.length === 0) return -1;
  if (tied.length === 1) return tied[0];
  let r = random() * tiedWeight;
  for (const i of tied) {
    const t = targets[i];
    r -= t.weight !== undefined && t.weight > 0 ? t.weight : 1;
    if (r < 0) return i;
  }
  return tied[tied.length - 1];
}
