/** Inputs for driving a store directly (no pipeline): facts as the extractor would give them, embedded locally. */
import { DEFAULT_CACHE, LOCAL_MODELS } from "../../src/config/defaults.js";
import { createLocalEmbeddingModel } from "../../src/models/local/embedding-model.js";
import { scopeKey, type Scope } from "../../src/store/scope.js";
import type { FactInput, FactsWrite } from "../../src/store/store.js";

export const EMBEDDING = "local:hash-384";
const embedder = createLocalEmbeddingModel(EMBEDDING);

export const actor = { principal: null, onBehalfOf: null, session: null };

export function fact(text: string, attribute: string | null = null, value: string | null = null, extra: Partial<FactInput> = {}): FactInput {
  return {
    kind: attribute ? "attribute" : "observation",
    memory_category: "identity",
    subject: "user",
    attribute,
    value,
    cardinality: "one",
    text,
    confidence: 0.9,
    entities: [],
    ...extra,
  };
}

/** A write of `facts` in `scope` from turn `turnId` (or a reflection), with local embeddings. */
export async function factsWrite(scope: Scope, facts: FactInput[], now: number, source: FactsWrite["source"] = { kind: "reflect", id: null, key: null }): Promise<FactsWrite> {
  return {
    scope,
    scopeKey: scopeKey(scope),
    facts,
    vectors: (await embedder.embed(facts.map((f) => f.text))).vectors,
    embeddingModel: EMBEDDING,
    source,
    actor,
    retention: [],
    now,
  };
}

export async function embed(text: string): Promise<Float32Array> {
  return (await embedder.embed([text])).vectors[0]!;
}

/** What a new Spectron writes on first open. */
export const contextInit = (now: number) => ({
  now,
  decide: (stored: unknown) => (stored ? {} : { create: { models: LOCAL_MODELS, cache: DEFAULT_CACHE } }),
});
