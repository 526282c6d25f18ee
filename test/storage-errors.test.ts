import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SpectronError, StorageError } from "../src/index.js";
import { toSpectronError } from "../src/store/storage-errors.js";
import { builtChild } from "./built-child.js";
import { tempDir } from "./helpers.js";

describe("finding 7: SQLite failures are typed at the store boundary", () => {
  it("a write past a file-size limit (a full disk, as the process sees it) is a StorageError, not a raw SqliteError", { timeout: 600_000 }, async () => {
    // A real child process under `ulimit -f 1024` (1 MiB per file): SQLite's write fails with EFBIG. The child runs
    // on the built package (built-child.ts; the timeout covers the shared build when the sources changed).
    const child = await builtChild(fileURLToPath(new URL("./fixtures/disk-full-child.ts", import.meta.url)));
    const t = tempDir();
    try {
      const out = execFileSync("bash", ["-c", 'ulimit -f 1024 && exec node --enable-source-maps "$0" "$1"', child, t.path], {
        cwd: new URL("..", import.meta.url).pathname,
        encoding: "utf8",
        timeout: 120_000,
      });
      const report = JSON.parse(out.trim().split("\n").at(-1)!) as Record<string, unknown>;
      expect(report).toMatchObject({ failed: true, spectron: true, name: "StorageError", code: "storage" });
      expect(report.sqliteCode).toMatch(/^SQLITE_(FULL|IOERR)/);
      expect(report.message).toMatch(/`knowledge\.add` failed: .*\(SQLITE_/);
      // What was committed before the failure is intact.
      const db = new Database(t.path, { readonly: true });
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      const documents = (db.prepare("SELECT COUNT(*) AS n FROM documents WHERE status = 'indexed'").get() as { n: number }).n;
      expect(documents).toBe(report.accepted);
      db.close();
    } finally {
      t.cleanup();
    }
  });

  it("SQLITE_FULL from SQLite itself maps to code `storage`, not retryable, with the SqliteError as cause", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (x BLOB)");
    db.pragma("max_page_count = 8");
    let raw: unknown;
    try {
      for (let i = 0; i < 100; i++) db.prepare("INSERT INTO t VALUES (?)").run(Buffer.alloc(4096));
    } catch (error) {
      raw = error;
    }
    db.close();
    expect((raw as { code?: string }).code).toBe("SQLITE_FULL");
    const typed = toSpectronError(raw, "ingest");
    expect(typed).toBeInstanceOf(StorageError);
    expect(typed).toMatchObject({ code: "storage", engineCode: "SQLITE_FULL", sqliteCode: "SQLITE_FULL", retryable: false, cause: raw });
    expect((typed as Error).message).toBe("`ingest` failed: the disk (or the database's size limit) is full. Free space and retry (SQLITE_FULL).");
  });

  it("a lock held by another connection is a retryable BusyError; a defect is `internal` with its cause", () => {
    const busy = Object.assign(new Error("database is locked"), { name: "SqliteError", code: "SQLITE_BUSY_SNAPSHOT" });
    expect(toSpectronError(busy, "ingest")).toMatchObject({ code: "busy", name: "BusyError", sqliteCode: "SQLITE_BUSY_SNAPSHOT", retryable: true });
    const defect = new TypeError("x is not a function");
    const typed = toSpectronError(defect, "recall") as SpectronError;
    expect(typed).toBeInstanceOf(SpectronError);
    expect(typed.code).toBe("internal");
    expect(typed.cause).toBe(defect);
    const abort = new AbortController();
    abort.abort();
    expect(toSpectronError(abort.signal.reason, "recall", abort.signal)).toBe(abort.signal.reason);
  });
});
