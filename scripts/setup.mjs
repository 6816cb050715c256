#!/usr/bin/env node
// One idempotent setup step shared by `npm start` and `npm test`, so a fresh
// clone needs nothing but Node: install dependencies when they are missing or
// stale, then compile TypeScript and build the portal when sources changed.
// Uses only Node built-ins because it runs before node_modules exists.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

function run(cmd) {
  process.stderr.write(`[setup] ${cmd}\n`);
  execSync(cmd, { stdio: 'inherit', env: process.env });
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Newest modification time of any file under `dir` whose name passes `accept`. */
function newest(dir, accept) {
  let best = 0;
  if (!existsSync(dir)) return 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const p = join(d, entry.name);
      if (entry.isDirectory()) stack.push(p);
      else if (accept(entry.name)) best = Math.max(best, mtime(p));
    }
  }
  return best;
}

// 1. Dependencies.
const lockStamp = mtime('node_modules/.package-lock.json');
if (!existsSync('node_modules') || lockStamp < mtime('package-lock.json') || lockStamp < mtime('package.json')) {
  run(existsSync('package-lock.json') ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund');
}

// 2. TypeScript for the Node side (relay, SDK, demo apps, benchmarks).
const tsSources = ['sip', 'server', 'appserver', 'demo-appserver', 'bench'].map((d) =>
  newest(d, (n) => n.endsWith('.ts')),
);
const builtAt = mtime('dist/.tsbuildinfo-build');
if (Math.max(...tsSources, mtime('tsconfig.json'), mtime('tsconfig.build.json')) > builtAt) {
  run('npx tsc -p tsconfig.build.json');
}

// 3. The portal (Vite), once it exists.
if (existsSync('web-client/index.html')) {
  const webSources = Math.max(newest('web-client', () => true), newest('sip', (n) => n.endsWith('.ts')));
  if (webSources > mtime('dist/web/index.html')) run('npx vite build --logLevel warn');
}
