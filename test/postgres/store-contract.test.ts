import { afterAll, beforeAll, describe } from "vitest";
import { postgresStore, type PostgresEngine } from "../../src/store/postgres/engine.js";
import { storeContract, type StoreSubject } from "../contract/store.contract.js";
import { announceSkips, ENGINE_START_TIMEOUT, ENGINES, type PgTestDatabase } from "./engines.js";

announceSkips();

for (const engine of ENGINES) {
  describe.skipIf(engine.skip)(`store contract on ${engine.name}`, () => {
    let database: PgTestDatabase;
    const engines: PostgresEngine[] = [];
    beforeAll(async () => {
      database = await engine.open();
    }, ENGINE_START_TIMEOUT);
    afterAll(async () => {
      for (const e of engines) await e.close();
      await database?.close();
    });
    const subject: StoreSubject = {
      separateSessions: engine.multiProcess,
      changeLog: true,
      // A pool per open: two opens of one Context are two instances, as in two processes.
      async open(context, now) {
        const e = postgresStore({ connectionString: database.url, max: 4 });
        engines.push(e);
        const store = await e.open(context, { now });
        if (store.pgvector !== engine.pgvector) throw new Error(`${engine.name}: pgvector ${store.pgvector}, expected ${engine.pgvector}`);
        // The pool goes with the store (PGlite, one backend behind one socket, drops connections once too many
        // idle pools pile up).
        const close = store.close.bind(store);
        store.close = async () => {
          const result = await close();
          await e.close();
          return result;
        };
        return store;
      },
      async teardown() {},
    };
    storeContract(() => subject);
  });
}
