import { describe, expect, it } from "vitest";
import { LOCAL_MODELS } from "../src/config/defaults.js";
import { SettingsCache } from "../src/config/settings-cache.js";
import type { ContextSettings } from "../src/store/contexts.js";
import type { Store, StoreChange } from "../src/store/store.js";

// The settings cache on its own (issue 13: Core split). On an engine without synchronous reads it keeps the
// settings fresh from the store's change feed, and the store it hands out resolves a call only once the refresh
// in flight has landed, so a call that wrote settings, and the calls after it, read them.

const NOOP = { debug() {}, info() {}, warn() {}, error() {} };

function settings(retentionTtl: string): ContextSettings {
  return {
    createdAt: 0,
    models: { ...LOCAL_MODELS },
    retention: [{ scope: {}, memory_category: "context", ttl: retentionTtl }],
    cache: { similarity: 0.95, freshness: null, min_trust: 0 },
    providersConfigured: [],
    providersSealed: null,
    lastDecayAt: null,
    indexModel: LOCAL_MODELS.embedding,
    reindex: { status: "idle", done: 0, total: 0 },
  } as unknown as ContextSettings;
}

/** The few Store members the cache uses: a change feed, `poll` and `settings` (each read answered by hand). */
function engine() {
  const listeners: ((change: StoreChange) => void)[] = [];
  const reads: ((s: ContextSettings) => void)[] = [];
  const store = {
    subscribe(listener: (change: StoreChange) => void) {
      listeners.push(listener);
      return () => undefined;
    },
    async poll() {},
    settings: () => new Promise<ContextSettings>((resolve) => reads.push(resolve)),
    async updateSettings() {
      for (const l of listeners) l({ kind: "settings" } as StoreChange);
    },
  };
  return { store: store as unknown as Store, reads };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("SettingsCache", () => {
  it("on an engine with its own synchronous settings, reads and invalidates them and hands the store out as it is", () => {
    const cache = new SettingsCache(NOOP);
    let current = settings("1d");
    let invalidated = 0;
    const { store } = engine();
    const out = cache.attach(store, settings("ignored"), { settingsSync: () => current, invalidateSettings: () => void invalidated++ });
    expect(out).toBe(store);
    expect(cache.current().retention[0]!.ttl).toBe("1d");
    current = settings("2d");
    cache.invalidate();
    expect(invalidated).toBe(1);
    expect(cache.current().retention[0]!.ttl).toBe("2d");
  });

  it("refreshes on a settings change, and a call on the store handed out resolves only once that refresh has landed", async () => {
    const cache = new SettingsCache(NOOP);
    const { store, reads } = engine();
    const out = cache.attach(store, settings("1d"), undefined);
    expect(cache.current().retention[0]!.ttl).toBe("1d");
    let written = false;
    const write = out.updateSettings({ retention: [] }).then(() => (written = true));
    await tick();
    expect(reads).toHaveLength(1); // the change started a refresh
    expect(written).toBe(false); // the write waits for it
    reads[0]!(settings("7d"));
    await write;
    expect(cache.current().retention[0]!.ttl).toBe("7d");
  });

  it("a later refresh wins over an earlier one that answers after it", async () => {
    const cache = new SettingsCache(NOOP);
    const { store, reads } = engine();
    cache.attach(store, settings("1d"), undefined);
    const first = cache.refresh();
    const second = cache.refresh();
    await tick();
    reads[1]!(settings("3d"));
    await second;
    reads[0]!(settings("2d"));
    await first;
    expect(cache.current().retention[0]!.ttl).toBe("3d");
  });

  it("before a store is attached, reading the settings is an internal error", () => {
    expect(() => new SettingsCache(NOOP).current()).toThrow(/not open yet/);
  });
});
