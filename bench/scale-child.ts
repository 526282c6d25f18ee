// Child-process entry for one scale size (forked by bench/run.ts): a fresh process per size, so that the peak
// RSS reported belongs to that size alone. Sends its report to the parent over IPC.

import { runScale } from "./scale.js";

const size = Number(process.argv[2]);
const quick = process.argv.includes("--quick");
try {
  const report = await runScale({ size, quick });
  process.send?.({ ok: true, report });
} catch (error) {
  process.send?.({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
}
