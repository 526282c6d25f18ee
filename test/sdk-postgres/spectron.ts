/**
 * `../src/index.js` as the SDK suite sees it when run on PostgreSQL (vitest.postgres.config.ts aliases it here):
 * the same exports, except that a `new Spectron` on `:memory:` (or with no `path`) gets a fresh PostgreSQL database
 * instead, through the public `store` option. Instances on a file path stay on that SQLite file (those tests are
 * about the file), and options that are not a plain object pass through untouched (validation tests).
 */
export * from "../../src/index.js";
import { Spectron as SqliteFirst, type SpectronOptions, type StoreEngine } from "../../src/index.js";
import { postgresStore } from "../../src/postgres.js";
import { freshDatabase, registerPostgresInstance, SDK_ENGINE } from "./databases.js";

/** An engine on a database of its own, made when the instance opens and dropped when it closes. */
function freshEngine(): StoreEngine & { url?: string } {
  let inner: ReturnType<typeof postgresStore> | undefined;
  let release: (() => Promise<void>) | undefined;
  return {
    engine: "postgres",
    async open(context, options) {
      const db = await freshDatabase();
      this.url = db.url;
      release = db.release;
      inner = postgresStore({ connectionString: db.url, max: 4 });
      return inner.open(context, options);
    },
    async close() {
      await inner?.close();
      await release?.();
    },
  };
}

function onPostgres(options: SpectronOptions): SpectronOptions {
  try {
    if (typeof options !== "object" || options === null || Object.getPrototypeOf(options) !== Object.prototype) return options;
    if ("store" in options) return options;
    if (options.path !== undefined && options.path !== ":memory:") return options;
    const { path: _memory, ...rest } = options;
    return { ...rest, store: freshEngine() };
  } catch {
    return options; // a hostile object (a throwing getter): the constructor's own checks meet it
  }
}

export class Spectron extends SqliteFirst {
  constructor(options: SpectronOptions) {
    const mapped = SDK_ENGINE ? onPostgres(options) : options;
    super(mapped);
    if (mapped !== options) {
      const engine = (mapped as { store: { url?: string } }).store;
      registerPostgresInstance(this, () => engine.url);
    }
  }
}
