#!/usr/bin/env node
// The `siprelay` command (bin/siprelay.js loads the compiled form of this file).
import { runCli } from './run-cli.js';

runCli(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
