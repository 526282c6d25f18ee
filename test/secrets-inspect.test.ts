import { inspect, format } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { Spectron } from "../src/index.js";
import { startFakeProvider, type FakeProvider } from "./fakes/fake-provider.js";
import { alice } from "./helpers.js";

const OPENAI_KEY = "sk-test-OPENAI-9f8e7d6c5b4a";
const ANTHROPIC_KEY = "sk-ant-ANTHROPIC-1a2b3c4d5e6f";
const LATER_KEY = "sk-test-LATER-0a9b8c7d6e5f";
const SECRET = "a-host-secret-of-32-characters!!";

/** JSON of anything: cycles cut, functions and class instances walked like objects. */
function jsonOf(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[cycle]";
      seen.add(v);
    }
    return typeof v === "bigint" ? String(v) : v;
  });
}

/** Every rendering a developer might log: util.inspect at any depth with hidden fields, %o, JSON. */
function renderings(value: unknown): string[] {
  return [
    inspect(value, { depth: Infinity, showHidden: true, getters: true }),
    inspect(value, { depth: Infinity }),
    format("%o", value),
    format("%O", value),
    jsonOf(value),
  ];
}

let server: FakeProvider | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await server?.close();
  server = undefined;
});

describe("finding 8: no provider key is reachable by inspecting an instance", () => {
  it("util.inspect / %o / JSON.stringify of the instance, every namespace and an as() view show no key", async () => {
    server = await startFakeProvider();
    const memory = new Spectron({
      context: "keys",
      secretKey: SECRET,
      providers: { openai: { apiKey: OPENAI_KEY, baseURL: server.openaiURL }, anthropic: { apiKey: ANTHROPIC_KEY, baseURL: server.url } },
      models: { extraction: "gpt-4o-mini", embedding: "text-embedding-3-small" },
      schedule: { decay: false, expire: false, retry: false },
    });
    cleanups.push(() => memory.close());
    // Models are built (and their SDK clients held) once a call has used them.
    await memory.ingest({ content: "I'm on the Pro plan.", scope: alice });
    await memory.config.providers({ openai: { apiKey: LATER_KEY, baseURL: server.openaiURL } });
    await memory.ingest({ content: "I live in Porto.", scope: alice });
    const view = memory.as({ id: "agent", grants: [{ scope: alice, permissions: ["read"] }] });
    const targets: [string, unknown][] = [
      ["memory", memory],
      ["view", view],
      ...(["config", "state", "traces", "lifecycle", "knowledge", "cache", "turns", "access"] as const).map((n) => [n, memory[n]] as [string, unknown]),
      ["config.get()", await memory.config.get()],
    ];
    for (const [name, target] of targets) {
      for (const text of renderings(target)) {
        for (const secret of [OPENAI_KEY, ANTHROPIC_KEY, LATER_KEY, SECRET]) {
          expect(text.includes(secret), `${name} shows ${secret.slice(0, 12)}…`).toBe(false);
          // Nor a recognisable part of it.
          expect(text.includes(secret.slice(-12)), `${name} shows the end of ${secret.slice(0, 12)}…`).toBe(false);
        }
      }
    }
    // The keys still work: the later one is the one sent.
    expect(server.requests.at(-1)!.keyLast4).toBe(LATER_KEY.slice(-4));
  });
});
