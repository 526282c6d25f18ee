// Child-process entry for one scale size (forked by bench/run.ts): a fresh process per size, so that the peak
// RSS reported belongs to that size alone. Sends its report to the parent over IPC. `--store=postgres`: the
// PostgreSQL section (bench/scale-postgres.ts) on the server of SPECTRON_BENCH_POSTGRES_URL / SPECTRON_TEST_POSTGRES_URL.

import { runScale } from "./scale.js";
import { runScalePostgres } from "./scale-postgres.js";

// Ctrl-C reaches the child too: exit normally so that its temporary store is removed.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

const size = Number(process.argv[2]);
const quick = process.argv.includes("--quick");
try {
  const url = process.env.SPECTRON_BENCH_POSTGRES_URL ?? process.env.SPECTRON_TEST_POSTGRES_URL;
  const report = process.argv.includes("--store=postgres") ? await runScalePostgres({ size, quick, url: url! }) : await runScale({ size, quick });
  // Exit once the report is out: an ANN rebuild abandoned at its timeout must not keep the child alive.
  process.send?.({ ok: true, report }, () => process.exit(0));
} catch (error) {
  process.send?.({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
}
