#!/usr/bin/env node
// The `siprelay-appserver` command (bin/siprelay-appserver.js loads the compiled form of this file).
import { processSidecarIo, runSidecarCli } from './sidecar-cli.js';

runSidecarCli(process.argv.slice(2), processSidecarIo()).then(
  (status) => {
    process.exitCode = status;
    // Nothing is left running once the sidecar has closed; exit even if a stray handle lingers.
    setTimeout(() => process.exit(), 1000).unref();
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
