#!/usr/bin/env node
import { ignoreClosedPipe } from "./closed-pipe.js";
import { runCli } from "./run-cli.js";

// The executable: `spectron …` (dist/cli.js) or `node --import tsx src/surfaces/cli/main.ts …`. Long-running
// commands (mcp) resolve only when they are done.
ignoreClosedPipe(process.stdout);
ignoreClosedPipe(process.stderr);
process.exitCode = await runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr, stdin: process.stdin }, process.env);
