import { SpectronValidationError } from "../../errors.js";
import type { CallOptions, EmbeddingModel } from "../types.js";
import { hashEmbed } from "./hash-embedder.js";
import { countWords } from "./text.js";

const HASH_ID = /^local:hash-(\d+)$/;
export const MIN_HASH_DIMENSIONS = 64;
export const MAX_HASH_DIMENSIONS = 4096;

/**
 * The offline embedder `local:hash-<dim>`: feature hashing of words, word bigrams and character trigrams,
 * L2-normalised, for any dimension from 64 to 4096. Deterministic and dependency-free; paraphrases that
 * share words land close, but it knows no synonyms.
 *
 * @example
 * const embedder = createLocalEmbeddingModel("local:hash-384");
 * const { vectors } = await embedder.embed(["which plan am I on?"]);   // vectors[0].length === 384
 */
export function createLocalEmbeddingModel(id: string): EmbeddingModel {
  const match = HASH_ID.exec(id);
  const dimensions = match ? Number(match[1]) : Number.NaN;
  if (!(dimensions >= MIN_HASH_DIMENSIONS && dimensions <= MAX_HASH_DIMENSIONS)) {
    throw new SpectronValidationError(
      "models.embedding",
      `"local:hash-<dim>" with dim between ${MIN_HASH_DIMENSIONS} and ${MAX_HASH_DIMENSIONS}`,
      id,
      'Use an id such as "local:hash-384".',
    );
  }
  return {
    id,
    provider: "local",
    dimensions,
    async embed(texts: readonly string[], options?: CallOptions) {
      options?.signal?.throwIfAborted();
      const started = performance.now();
      const vectors = texts.map((text) => hashEmbed(text, dimensions));
      return {
        vectors,
        usage: {
          model: id,
          provider: "local",
          inputTokens: texts.reduce((sum, text) => sum + countWords(text), 0),
          outputTokens: 0,
          latencyMs: performance.now() - started,
          costUsd: 0,
        },
      };
    },
  };
}
