/**
 * The shared suite every LanguageModel / EmbeddingModel implementation passes: local, OpenAI and Anthropic
 * (the last two through their real SDKs against the fake server).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { backgroundPrompt } from "../../src/models/prompts/background.js";
import { synthesisPrompt } from "../../src/models/prompts/synthesis.js";
import { extractionPrompt } from "../../src/models/prompts/extraction.js";
import { queryUnderstandingPrompt } from "../../src/models/prompts/query-understanding.js";
import { reflectionPrompt } from "../../src/models/prompts/reflection.js";
import { responsePrompt } from "../../src/models/prompts/response.js";
import type { EmbeddingModel, LanguageModel, Prompt } from "../../src/models/types.js";

export interface ContractSubject {
  model: LanguageModel;
  embedder?: EmbeddingModel;
  teardown(): Promise<void>;
}

interface PromptCase {
  prompt: Prompt<any, unknown>;
  input: unknown;
}

const record = (id: string, text: string, attribute: string, value: string, created_at: string) => ({
  id,
  text,
  subject: "user",
  attribute,
  value,
  created_at,
  confidence: 0.9,
});

/** One realistic input per prompt in src/models/prompts. */
export const promptCases: readonly PromptCase[] = [
  { prompt: extractionPrompt, input: { role: "user", content: "I'm on the Enterprise plan now and I live in Lisbon.", source: "turn" } },
  { prompt: queryUnderstandingPrompt, input: { query: "which plan am I on?" } },
  {
    prompt: responsePrompt,
    input: {
      query: "which plan am I on?",
      records: [
        { ...record("r1", "The user is on the Enterprise plan.", "plan", "enterprise", "2026-01-02T00:00:00Z"), kind: "attribute", status: "current" },
      ],
    },
  },
  {
    prompt: reflectionPrompt,
    input: {
      record: record("r2", "The user is on the Enterprise plan.", "plan", "enterprise", "2026-01-02T00:00:00Z"),
      neighbours: [record("r1", "The user is on the Pro plan.", "plan", "pro", "2025-12-01T00:00:00Z")],
    },
  },
  {
    prompt: backgroundPrompt,
    input: { records: [{ id: "r1", text: "The user likes tea." }, { id: "r2", text: "The user drinks green tea every morning." }] },
  },
  {
    prompt: synthesisPrompt,
    input: {
      query: "what does the user like?",
      records: [
        { ...record("r1", "User likes tea.", "likes", "tea", "2026-01-02T00:00:00Z"), kind: "attribute", status: "current" },
        { ...record("r2", "User likes green tea in the morning.", "likes", "green tea", "2026-01-03T00:00:00Z"), kind: "attribute", status: "current" },
      ],
    },
  },
];

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0) / (norm(a) * norm(b) || 1);

export function languageModelContract(name: string, makeModel: () => Promise<ContractSubject>): void {
  describe(`model contract: ${name}`, () => {
    let subject: ContractSubject;
    beforeAll(async () => {
      subject = await makeModel();
    });
    afterAll(async () => {
      await subject?.teardown();
    });

    test("has an id and a provider", () => {
      expect(subject.model.id).toMatch(/\S/);
      expect(["openai", "anthropic", "local"]).toContain(subject.model.provider);
    });

    for (const { prompt, input } of promptCases) {
      test(`generate(${prompt.name}) returns a schema-valid value and its usage`, async () => {
        const { value, usage } = await subject.model.generate(prompt, input);
        const parsed = prompt.schema.safeParse(value);
        expect(parsed.success, parsed.success ? "" : parsed.error.message).toBe(true);
        expect(usage.model).toBe(subject.model.id);
        expect(usage.provider).toBe(subject.model.provider);
        for (const n of [usage.inputTokens, usage.outputTokens, usage.latencyMs, usage.costUsd]) {
          expect(Number.isFinite(n)).toBe(true);
          expect(n).toBeGreaterThanOrEqual(0);
        }
        expect(Number.isInteger(usage.inputTokens) && Number.isInteger(usage.outputTokens)).toBe(true);
      });
    }

    test("generate with an already-aborted signal rejects", async () => {
      const controller = new AbortController();
      controller.abort();
      const { prompt, input } = promptCases[1]!;
      await expect(subject.model.generate(prompt, input, { signal: controller.signal })).rejects.toThrow();
    });

    test("embeddings have the model's dimension, unit norm and input order", async (ctx) => {
      const embedder = subject.embedder;
      if (!embedder) return ctx.skip();
      const texts = ["I'm on the Enterprise plan.", "The office is in Lisbon.", "Green tea every morning."];
      const { vectors, usage } = await embedder.embed(texts);
      expect(vectors).toHaveLength(texts.length);
      for (const v of vectors) {
        expect(v).toBeInstanceOf(Float32Array);
        expect(v.length).toBe(embedder.dimensions);
        expect(norm(v)).toBeCloseTo(1, 3);
      }
      const reversed = await embedder.embed([...texts].reverse());
      for (let i = 0; i < texts.length; i++) expect(cosine(vectors[i]!, reversed.vectors[texts.length - 1 - i]!)).toBeGreaterThan(0.999);
      const alone = await embedder.embed([texts[2]!]);
      expect(cosine(vectors[2]!, alone.vectors[0]!)).toBeGreaterThan(0.999);
      expect(usage.model).toBe(embedder.id);
      expect(usage.provider).toBe(embedder.provider);
      expect(usage.latencyMs).toBeGreaterThanOrEqual(0);
      expect((await embedder.embed([])).vectors).toEqual([]);
    });

    test("embed with an already-aborted signal rejects", async (ctx) => {
      const embedder = subject.embedder;
      if (!embedder) return ctx.skip();
      const controller = new AbortController();
      controller.abort();
      await expect(embedder.embed(["x"], { signal: controller.signal })).rejects.toThrow();
    });
  });
}
