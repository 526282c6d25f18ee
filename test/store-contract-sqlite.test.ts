import { afterAll, describe } from "vitest";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { evolutionContract, type EvolutionStoreSubject } from "./contract/store.contract.js";
import { tempDir } from "./helpers.js";

// The evolution part of the shared store contract (test/contract/store.contract.ts) on the SQLite engine: a real
// file, each open its own connection (as two processes would have), and :memory: (every open a database of its
// own: the two-instance case runs on one). The main suite (`storeContract`) is the PostgreSQL engine's; on SQLite
// three of its cases still differ (the ANN path's threshold, other connections' record changes, the tombstone's text).

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const DIMENSIONS = 384; // local:hash-384, the fixtures' embedding model

function sqliteSubject(path: () => string): EvolutionStoreSubject {
  return {
    separateSessions: false,
    changeLog: false,
    oneDatabasePerOpen: path() === ":memory:",
    async open(context) {
      const store = new SqliteStore(path(), context, silent);
      store.indexes.dimensionsOf = () => DIMENSIONS;
      return store;
    },
    async teardown() {},
  };
}

describe("evolution contract on SQLite (a file)", () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const subject = sqliteSubject(() => tmp.path);
  evolutionContract(() => subject);
});

describe("evolution contract on SQLite (:memory:)", () => {
  evolutionContract(() => sqliteSubject(() => ":memory:"));
});
