import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Layering rules of docs/architecture.md, checked on every import in the
 * source tree: the SIP core is isomorphic and never reaches up into the
 * relay, the SDK or the portal; only sip/node/ touches Node's own modules.
 */
const root = new URL('..', import.meta.url).pathname;

function sources(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(join(root, dir));
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (e === 'node_modules' || e === 'dist') continue;
    if (statSync(join(root, p)).isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(e) && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function resolvesInto(file: string, spec: string, folder: string): boolean {
  if (!spec.startsWith('.')) return false;
  const target = relative(root, join(root, file, '..', spec));
  return target === folder || target.startsWith(folder + '/');
}

describe('architecture', () => {
  const sipFiles = sources('sip').filter((f) => !f.startsWith('sip/node/'));

  it('finds the SIP core sources', () => {
    expect(sipFiles.length).toBeGreaterThan(20);
    // And reads their imports, or every rule below would pass vacuously.
    expect(sipFiles.flatMap(importsOf)).toContain('../errors.js');
    expect(importsOf('sip/node/udp-listener.ts').some((s) => NODE_BUILTINS.has(s))).toBe(true);
  });

  it('sip/ outside sip/node/ imports no Node built-in module', () => {
    const offenders = sipFiles.flatMap((f) => importsOf(f).filter((s) => NODE_BUILTINS.has(s)).map((s) => `${f} → ${s}`));
    expect(offenders).toEqual([]);
  });

  it('sip/ imports nothing from server/, appserver/, demo-appserver/ or web-client/', () => {
    const offenders = sources('sip').flatMap((f) =>
      importsOf(f)
        .filter((s) => ['server', 'appserver', 'demo-appserver', 'web-client'].some((d) => resolvesInto(f, s, d)))
        .map((s) => `${f} → ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it('sip/ outside sip/node/ uses only isomorphic packages', () => {
    const allowed = [/^@noble\/hashes(\/|$)/];
    const offenders = sipFiles.flatMap((f) =>
      importsOf(f)
        .filter((s) => !s.startsWith('.') && !allowed.some((re) => re.test(s)))
        .map((s) => `${f} → ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the SDK and the demo application servers do not import the relay', () => {
    const offenders = [...sources('appserver'), ...sources('demo-appserver')].flatMap((f) =>
      importsOf(f)
        .filter((s) => resolvesInto(f, s, 'server'))
        .map((s) => `${f} → ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the portal imports only the SIP core among project folders', () => {
    const offenders = sources('web-client/src').flatMap((f) =>
      importsOf(f)
        .filter((s) => ['server', 'appserver', 'demo-appserver'].some((d) => resolvesInto(f, s, d)) || NODE_BUILTINS.has(s))
        .map((s) => `${f} → ${s}`),
    );
    expect(offenders).toEqual([]);
  });
});
