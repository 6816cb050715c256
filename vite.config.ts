import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webClient = fileURLToPath(new URL('./web-client/', import.meta.url));
/** The relay the dev server forwards to (`npm start` runs it on 8080). */
const relay = process.env.SIPRELAY_DEV_RELAY ?? 'http://127.0.0.1:8080';

/**
 * The portal and the operator console (docs/portal.md): two pages built
 * from web-client/ into dist/web, which the relay serves at `/`
 * (`startRelay(…, { portalDir: 'dist/web' })`). `npx vite` serves them in
 * development and forwards the API and the SIP WebSocket to a running relay.
 */
export default defineConfig({
  root: webClient,
  base: './',
  clearScreen: false,
  build: {
    outDir: fileURLToPath(new URL('./dist/web/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Keep the build quick: no compressed-size report (scripts/measure-portal.ts measures the budget).
    reportCompressedSize: false,
    sourcemap: false,
    rollupOptions: {
      input: {
        portal: `${webClient}index.html`,
        console: `${webClient}console.html`,
      },
      // Lit and the code both pages use go into one chunk, named for what it is.
      output: { chunkFileNames: 'assets/shared-[hash].js' },
    },
  },
  server: {
    proxy: {
      '/api': relay,
      '/admin': relay,
      '/.well-known': relay,
      '/sip': { target: relay.replace(/^http/, 'ws'), ws: true },
    },
  },
});
