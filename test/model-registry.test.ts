import { describe, expect, it } from "vitest";
import { LOCAL_MODELS } from "../src/config/defaults.js";
import type { Models } from "../src/config/schemas.js";
import { ModelRegistry } from "../src/models/registry.js";
import type { EmbeddingModel } from "../src/models/types.js";

// The model registry on its own (issue 13: Core split): what each stage's model is, what an embedding model's
// dimension is, and what the calls cost, without a store or a Spectron around it.

function registry(models: Partial<Models> = {}, stored: (id: string) => number | undefined = () => undefined) {
  const settings = { models: { ...LOCAL_MODELS, ...models } as Models, indexModel: models.embedding ?? LOCAL_MODELS.embedding };
  const asked: string[] = [];
  const r = new ModelRegistry({
    providers: {},
    providerOptions: {},
    assignment: () => settings,
    storedDimension: (id) => (asked.push(id), stored(id)),
  });
  return { r, settings, asked };
}

/** An embedding model object of no declared dimension, answering with `dim`-dimensional vectors. */
function undeclared(id: string, dim: number): EmbeddingModel {
  return {
    id,
    provider: "custom",
    async embed(texts) {
      return { vectors: texts.map(() => new Float32Array(dim).fill(1)), usage: { model: id, provider: "custom", inputTokens: 1, outputTokens: 0, latencyMs: 0, costUsd: 0 } };
    },
  };
}

describe("ModelRegistry", () => {
  it("resolves each stage's model from the settings as they are now, once per stage and id", () => {
    const { r, settings } = registry();
    const extraction = r.model("extraction");
    expect(extraction.id).toBe("local:rules");
    expect(r.model("extraction")).toBe(extraction);
    expect(r.ids()).toBe(settings.models);
    expect(r.indexModel()).toBe("local:hash-384");
    settings.indexModel = "local:hash-64";
    expect(r.embedder().id).toBe("local:hash-64");
  });

  it("a registered model object serves the stages whose id it has; registering drops the models built so far", async () => {
    const { r } = registry({ embedding: "mine" });
    r.register("mine", undeclared("mine", 3));
    expect(r.isRegistered("mine")).toBe(true);
    const before = r.embedder();
    r.register("mine", undeclared("mine", 3));
    expect(r.embedder()).not.toBe(before);
    expect((await r.embedder().embed(["a"])).vectors[0]).toHaveLength(3);
  });

  it("a dimension is declared, else read from the stored vectors (and remembered), else learnt from the first reply", async () => {
    const { r, asked } = registry({}, (id) => (id === "on-disk" ? 12 : undefined));
    expect(r.dimensionsOf("local:hash-64")).toBe(64);
    expect(asked).toEqual([]);
    expect(r.dimensionsOf("on-disk")).toBe(12);
    expect(r.dimensionsOf("on-disk")).toBe(12);
    expect(asked).toEqual(["on-disk"]);

    r.register("fresh", undeclared("fresh", 5));
    expect(r.dimensionsOf("fresh")).toBeUndefined();
    await r.embedder("fresh").embed(["x"]);
    expect(r.dimensionsOf("fresh")).toBe(5);
  });

  it("counts usage per stage; setProviders replaces the providers and the models built from them", () => {
    const { r } = registry();
    r.recordUsage("extraction", { model: "local:rules", provider: "local", inputTokens: 3, outputTokens: 2, latencyMs: 1, costUsd: 0 });
    expect(r.usage.get("extraction")).toMatchObject({ calls: 1, input_tokens: 3, output_tokens: 2 });
    const model = r.model("response");
    r.setProviders({ openai: { apiKey: "sk-test" } });
    expect(r.providerConfigs()).toEqual({ openai: { apiKey: "sk-test" } });
    expect(r.model("response")).not.toBe(model);
  });
});
