/** The built-in offline provider: `local:rules` for every language stage, `local:hash-<dim>` for embeddings. */
export { createLocalLanguageModel, LOCAL_LANGUAGE_MODEL_ID } from "./language-model.js";
export { createLocalEmbeddingModel, MAX_HASH_DIMENSIONS, MIN_HASH_DIMENSIONS } from "./embedding-model.js";
