#!/usr/bin/env node
import { runCli } from "./run-cli.js";

// The executable: `spectron …` (dist/cli.js) or `node --import tsx src/surfaces/cli/main.ts …`. Long-running
// commands (mcp) resolve only when they are done.
process.exitCode = await runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr, stdin: process.stdin }, process.env);
