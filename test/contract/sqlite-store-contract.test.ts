import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { EMBEDDING } from "../postgres/fixtures.js";
import { evolutionContract, storeContract, type StoreSubject } from "./store.contract.js";

const logger = { debug() {}, info() {}, warn() {}, error() {} };

// The same suite the PostgreSQL engines pass (test/postgres/store-contract.test.ts), on the SQLite engine: a real
// file (two opens of one Context are two connections to it, as two processes would be); and the evolution part on
// ":memory:" too (every open a database of its own: its two-instance case runs on one).
describe("store contract on sqlite (file)", () => {
  const dir = mkdtempSync(join(tmpdir(), "spectron-contract-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const subject: StoreSubject = {
    // One file holds one writer at a time: a sweep lock is this process's only (store.ts, withSweepLock).
    separateSessions: false,
    changeLog: false,
    async open(context) {
      const store = new SqliteStore(join(dir, "spectron.db"), context, logger);
      // Core tells the engine the dimensions its model registry knows; the contract's one model is local:hash-384.
      store.indexes.dimensionsOf = (model) => (model === EMBEDDING ? 384 : undefined);
      return store;
    },
    async teardown() {},
  };
  storeContract(() => subject);
});

describe("evolution contract on sqlite (:memory:)", () => {
  evolutionContract(() => ({
    separateSessions: false,
    changeLog: false,
    oneDatabasePerOpen: true,
    async open(context) {
      const store = new SqliteStore(":memory:", context, logger);
      store.indexes.dimensionsOf = (model) => (model === EMBEDDING ? 384 : undefined);
      return store;
    },
    async teardown() {},
  }));
});
