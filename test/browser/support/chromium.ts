import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const root = new URL('../../../', import.meta.url).pathname;

/** Where screenshots of key screens are kept (git-ignored `test-results/`). */
export const SCREENSHOT_DIR = join(root, 'test-results', 'screenshots');

/**
 * Debian's Chromium, headless. Playwright's own browser download does not
 * work here, so playwright-core drives the system executable
 * (`SIPRELAY_CHROMIUM` overrides the path).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.SIPRELAY_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Saves a full-page screenshot as `test-results/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
