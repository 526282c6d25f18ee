import { SpectronError } from "../errors.js";
import type { ContextSettings } from "../store/contexts.js";
import type { Store } from "../store/store.js";
import type { Logger } from "./schemas.js";

/** An engine that keeps its own settings cache, read synchronously (the embedded SQLite engine). */
export interface SyncSettings {
  settingsSync(): ContextSettings;
  invalidateSettings(): void;
}

/**
 * The Context's settings, read synchronously everywhere: the SQLite engine reads its own cache; for any other
 * engine this one keeps a copy, refreshed on each `settings` change the store reports (own writes and other
 * processes').
 */
export class SettingsCache {
  /** The engine's own synchronous settings (SQLite), else undefined. */
  #sync: SyncSettings | undefined;
  /** The store itself, unwrapped (refreshes read through it: the store handed out waits for them). */
  #raw: Store | undefined;
  /** The settings of an engine without synchronous reads, kept fresh through `subscribe` (see `attach`). */
  #settings: ContextSettings | undefined;
  /** Refreshes of #settings started and the one in flight: a later refresh wins over an earlier one. */
  #refreshes = 0;
  #refreshing: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /**
   * Connects the opened store, with the settings it returned when the Context was opened; returns the store to
   * hand out. With `sync` (SQLite) that is the store itself. Otherwise the cache subscribes to the store's
   * changes, and the store handed out resolves a call only once the refresh its own writes started has landed
   * (so that a call that wrote settings and the calls after it read them).
   */
  attach(store: Store, settings: ContextSettings, sync?: SyncSettings): Store {
    if (sync) {
      this.#sync = sync;
      return store;
    }
    this.#settings = settings;
    this.#raw = store;
    store.subscribe((change) => {
      if (change.kind === "settings") void this.refresh().catch(() => undefined);
    });
    return settledStore(store, () => this.#refreshing);
  }

  /** The Context's settings (cached; the cache notices this and other processes' changes). */
  current(): ContextSettings {
    if (this.#sync) return this.#sync.settingsSync();
    if (!this.#settings) throw new SpectronError("internal", "The store is not open yet.");
    return this.#settings;
  }

  /** Call after any write to the settings (SQLite; other engines' caches follow their change feed). */
  invalidate(): void {
    if (this.#sync) this.#sync.invalidateSettings();
    else void this.refresh().catch(() => undefined);
  }

  /**
   * The settings as stored now, another process's latest changes included (SQLite: the file; other engines:
   * their change feed read first), also cached for `current()`.
   */
  async refresh(): Promise<ContextSettings> {
    if (this.#sync) {
      this.#sync.invalidateSettings();
      return this.#sync.settingsSync();
    }
    const store = this.#raw;
    if (!store) throw new SpectronError("internal", "The store is not open yet.");
    const n = ++this.#refreshes;
    const refresh = (async () => {
      await store.poll();
      const settings = await store.settings();
      if (n === this.#refreshes) this.#settings = settings;
      return settings;
    })();
    const landed = refresh.then(
      () => undefined,
      (error: unknown) => this.logger.warn("Reading the Context settings failed; the next change retries", { error: String(error) }),
    );
    this.#refreshing = landed;
    void landed.then(() => {
      if (this.#refreshing === landed) this.#refreshing = undefined;
    });
    return refresh;
  }
}

/**
 * The store as the cache hands it out: every call that returns a promise resolves only after the settings
 * refresh in flight when it settled (the one its own settings write started, if any) has landed.
 */
function settledStore(store: Store, refreshing: () => Promise<void> | undefined): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const method = value as (...args: unknown[]) => unknown;
        fn = (...args: unknown[]) => {
          const result = method.apply(target, args);
          if (!(result instanceof Promise)) return result;
          return result.then(async (out) => {
            await refreshing();
            return out;
          });
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
