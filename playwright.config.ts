/**
 * The browser the portal's tests drive (issue 6): Debian's Chromium,
 * headless. Playwright's own browser download does not work here, and
 * `@playwright/test` is not a dependency, so the browser tests under
 * test/browser/ are vitest files that drive `playwright-core` (`npm test`
 * runs them with everything else). They read their launch options from
 * this file, which keeps `@playwright/test`'s configuration shape so the
 * settings live in the usual place.
 *
 * - `SIPRELAY_CHROMIUM` points to another Chromium.
 * - Screenshots of the key screens go to `test-results/screenshots/`
 *   (git-ignored).
 */
const config = {
  testDir: './test/browser',
  testMatch: '**/*.test.ts',
  outputDir: './test-results',
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: process.env.SIPRELAY_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
  },
} as const;

export default config;
