import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';

const root = new URL('../../../', import.meta.url).pathname;

/**
 * Builds the portal and the console with the project's vite.config.ts into
 * a fresh temp directory and returns it: each browser test file tests the
 * sources as they are, and files running in parallel never share (or wipe)
 * an output directory.
 */
export async function buildPortal(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'siprelay-portal-'));
  // Vitest sets NODE_ENV=test, which would make Vite pick Lit's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(root, 'vite.config.ts'), mode: 'production', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}
