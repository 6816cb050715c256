#!/usr/bin/env node
// The installed `siprelay-appserver` command: the application-server SDK as
// its own process (`siprelay-appserver sidecar --config sidecar.yaml`). Runs
// the compiled code; build first (`npm run build`, or any `npm start` /
// `npm test`, which build as needed).
import '../dist/appserver/sidecar/sidecar-main.js';
