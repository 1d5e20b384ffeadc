#!/usr/bin/env node
// The published entry point: runs the compiled CLI. `npm ci` compiles it
// through the `prepare` script, so this works straight after install.
import "../dist/src/cli/run.js";
