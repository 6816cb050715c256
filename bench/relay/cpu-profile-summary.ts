/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): the functions with the
 * most self time, and self time by source file, so that a relay profile
 * under load says where the time goes.
 *
 *   node dist/bench/relay/cpu-profile-summary.js <file.cpuprofile> [top=30]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function main(): void {
  const [file, topArg = '30'] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-profile-summary <file.cpuprofile> [top]');
  const top = Number(topArg);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = profile.endTime - profile.startTime;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const short = url.replace(/^file:\/\//, '').replace(/.*\/(node_modules\/)/, '$1').replace(/.*\/dist\//, 'dist/');
    const name = functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const key = `${name}  ${short || '(native)'}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const fileKey = short || name;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number, of: number) => ((100 * us) / of).toFixed(1).padStart(5) + '%';
  console.log(`profile ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${pct(busy, total)}), idle ${(idle / 1e6).toFixed(1)} s`);
  console.log(`\ntop ${top} functions by self time (% of busy time):`);
  for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us, busy)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  // Inclusive time by function: a node's own samples plus its descendants', counted once per
  // function on each stack (recursion is not counted twice).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (id: number) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const short = url.replace(/^file:\/\//, '').replace(/.*\/(node_modules\/)/, '$1').replace(/.*\/dist\//, 'dist/');
    return `${functionName || '(anonymous)'}  ${short || '(native)'}${url ? `:${lineNumber + 1}` : ''}`;
  };
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const seenOnStack = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const k = keyOf(n);
      if (seenOnStack.has(k)) continue;
      seenOnStack.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  console.log(`\ntop ${top} functions by inclusive time (% of busy time):`);
  for (const [k, us] of [...inclusive].filter(([k]) => !/^\((root|program|garbage collector)\)/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(us, busy)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  }
  console.log(`\nself time by file:`);
  for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us, busy)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
}

main();
