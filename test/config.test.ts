import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Spectron, SpectronValidationError, type RetentionRule } from "../src/index.js";
import { alice, DAY, makeMemory, tempDir } from "./helpers.js";

const KEY = "sk-test-SECRET-KEY-1234567890";

describe("config", () => {
  it("updates any subset of the six stages and rejects unknown stages and ids", async () => {
    const { memory } = makeMemory();
    const next = await memory.config.models({ reflection: "gpt-4o", extraction: "claude-3-haiku-20240307" });
    expect(next.reflection).toBe("gpt-4o");
    expect(next.extraction).toBe("claude-3-haiku-20240307");
    expect(next.response).toBe("local:rules");
    await expect(memory.config.models({ summarise: "gpt-4o" } as never)).rejects.toThrow(/summarise/);
    await expect(memory.config.models({ response: "llama-3" })).rejects.toBeInstanceOf(SpectronValidationError);
    await expect(memory.config.models({ embedding: "claude-3-haiku-20240307" })).rejects.toThrow(/Anthropic has no embeddings/);
    await expect(memory.config.models({ embedding: "local:hash-7" })).rejects.toThrow(/64 and 4096/);
    await expect(memory.config.models({ response: "text-embedding-3-small" })).rejects.toThrow(/not an embedding model/);
    expect((await memory.config.get()).models.reflection).toBe("gpt-4o");
    await memory.close();
  });

  it("fails a call that needs a provider with no key, naming the fix, and keeps the turn", async () => {
    const { memory } = makeMemory();
    await memory.config.models({ extraction: "gpt-4o-mini" });
    await expect(memory.ingest({ content: "I live in Lisbon.", scope: alice })).rejects.toThrow(/memory\.config\.providers/);
    expect((await memory.turns.list({ status: "pending" })).map((t) => t.content)).toEqual(["I live in Lisbon."]);
    await memory.close();
  });

  it("keeps provider keys write-only, in memory only without a secretKey", async () => {
    const t = tempDir();
    const memory = new Spectron({ context: "k", path: t.path, providers: {} });
    expect(await memory.config.providers({ openai: KEY, anthropic: { apiKey: "sk-ant-SECRET-999999", baseURL: "http://127.0.0.1:9" } })).toEqual({
      providers_configured: ["anthropic", "openai"],
    });
    const cfg = await memory.config.get();
    expect(cfg.providers_configured).toEqual(["anthropic", "openai"]);
    expect(JSON.stringify(cfg)).not.toContain("SECRET");
    await memory.close();
    for (const f of [t.path, `${t.path}-wal`]) {
      try {
        expect(readFileSync(f).includes("SECRET")).toBe(false);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
    const again = new Spectron({ context: "k", path: t.path, providers: {} });
    expect((await again.config.get()).providers_configured).toEqual([]);
    await again.close();
    t.cleanup();
  });

  it("persists keys encrypted under a secretKey, and only then", async () => {
    const t = tempDir();
    const secretKey = "a-host-supplied-secret-of-32-chars!";
    const memory = new Spectron({ context: "k", path: t.path, secretKey });
    await memory.config.providers({ openai: KEY });
    await memory.close();
    const raw = readFileSync(t.path);
    expect(raw.includes(KEY)).toBe(false);
    const again = new Spectron({ context: "k", path: t.path, secretKey });
    expect((await again.config.get()).providers_configured).toEqual(["openai"]);
    await again.close();
    expect(() => new Spectron({ context: "k", path: t.path, secretKey: "a-different-secret-entirely-xx" })).toThrow(/secretKey/);
    t.cleanup();
  });

  it("validates and stores retention rules, and applies the first match to new records", async () => {
    const { memory, clock } = makeMemory();
    await expect(memory.config.retention([{ scope: {}, memory_category: "context", ttl: "30 days" }])).rejects.toThrow(/retention\[0\]\.ttl/);
    await expect(memory.config.retention([{ scope: {}, memory_category: "gossip" as never, ttl: "30d" }])).rejects.toThrow(/memory_category/);
    const rules: RetentionRule[] = [
      { scope: { plan: "enterprise" }, memory_category: "context" as const, ttl: "30d" },
      { scope: {}, memory_category: "context" as const, ttl: "12h" },
    ];
    expect(await memory.config.retention(rules)).toEqual(rules);
    expect((await memory.config.get()).retention).toEqual(rules);
    const ent = await memory.ingest({ content: "I'm tired today.", scope: { user: "a", plan: "enterprise" } });
    const free = await memory.ingest({ content: "I'm tired today.", scope: { user: "b" } });
    expect(Date.parse(ent.records[0]!.expires_at!)).toBe(clock.now() + 30 * DAY);
    expect(Date.parse(free.records[0]!.expires_at!)).toBe(clock.now() + DAY / 2);
    await memory.close();
  });

  it("tunes the cache thresholds with partial updates (similarity 0.95 by default)", async () => {
    const { memory } = makeMemory();
    expect((await memory.config.get()).cache).toEqual({ similarity: 0.95, freshness: null, min_trust: 0 });
    expect(await memory.config.cache({ similarity: 0.9 })).toEqual({ similarity: 0.9, freshness: null, min_trust: 0 });
    expect(await memory.config.cache({ freshness: "1h" })).toEqual({ similarity: 0.9, freshness: "1h", min_trust: 0 });
    await expect(memory.config.cache({ similarity: 1.5 })).rejects.toThrow(/cache\.similarity/);
    await memory.close();
  });

  it("fixes defaults when the Context is created: a key set later never switches a stage", async () => {
    const t = tempDir();
    const withKey = new Spectron({ context: "openai-ctx", path: t.path, providers: { openai: KEY } });
    expect((await withKey.config.get()).models.extraction).toBe("gpt-4o-mini");
    expect((await withKey.config.get()).models.reflection).toBe("gpt-4o");
    expect((await withKey.config.get()).models.embedding).toBe("text-embedding-3-small");
    await withKey.close();
    const local = new Spectron({ context: "local-ctx", path: t.path, providers: {} });
    await local.config.providers({ openai: KEY });
    expect((await local.config.get()).models.extraction).toBe("local:rules");
    await local.close();
    t.cleanup();
  });
});
