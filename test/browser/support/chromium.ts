import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import playwrightConfig from '../../../playwright.config.js';

const root = new URL('../../../', import.meta.url).pathname;

/** Where screenshots of key screens are kept (git-ignored `test-results/`). */
export const SCREENSHOT_DIR = join(root, 'test-results', 'screenshots');

const { launchOptions } = playwrightConfig.use;
const EXECUTABLE = launchOptions.executablePath;

/**
 * Whether the browser tests can run: Chromium is installed. Without it they
 * are skipped with the reason printed — unless `CI` is set, where a missing
 * browser is a failure, not a skip.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(EXECUTABLE)) return true;
  if (process.env.CI) throw new Error(`Chromium not found at ${EXECUTABLE} (set SIPRELAY_CHROMIUM)`);
  console.warn(`browser tests skipped: no Chromium at ${EXECUTABLE} (set SIPRELAY_CHROMIUM)`);
  return false;
}

/**
 * Debian's Chromium, headless, with the launch options of
 * playwright.config.ts: Playwright's own browser download does not work
 * here, so playwright-core drives the system executable
 * (`SIPRELAY_CHROMIUM` overrides the path).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: EXECUTABLE, args: [...launchOptions.args] });
}

/** Saves a full-page screenshot as `test-results/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
