#!/usr/bin/env node
// The installed `siprelay` command: runs the compiled CLI. Build first
// (`npm run build`, or any `npm start` / `npm test`, which build as needed).
import '../dist/server/cli/main.js';
