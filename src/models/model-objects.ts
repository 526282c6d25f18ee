import { fromAISdkEmbeddingModel, fromAISdkLanguageModel, isAISdkEmbeddingModel, isAISdkLanguageModel, type AISdkEmbeddingModel, type AISdkLanguageModel } from "./ai-sdk-model.js";
import type { ProviderOptions } from "./provider-config.js";
import type { EmbeddingModel, LanguageModel } from "./types.js";

/**
 * A model given as an object instead of an id: one implementing Spectron's `LanguageModel` /
 * `EmbeddingModel`, or a Vercel AI SDK `LanguageModelV3` / `EmbeddingModelV3` (`openai("gpt-4o-mini")`,
 * `ollama("llama3.1")`, any AI SDK provider's model).
 */
export type LanguageModelObject = LanguageModel | AISdkLanguageModel;
export type EmbeddingModelObject = EmbeddingModel | AISdkEmbeddingModel;

/** What a stage's model may be: an id (`"ollama:llama3.1"`) or a model object. */
export type ModelInput = string | LanguageModelObject | EmbeddingModelObject;

export function isLanguageModelObject(value: unknown): value is LanguageModelObject {
  if (isAISdkLanguageModel(value)) return true;
  const v = value as Partial<LanguageModel> | null;
  return typeof v === "object" && v !== null && typeof v.generate === "function" && typeof v.id === "string" && typeof v.provider === "string";
}

export function isEmbeddingModelObject(value: unknown): value is EmbeddingModelObject {
  if (isAISdkEmbeddingModel(value)) return true;
  const v = value as Partial<EmbeddingModel> | null;
  if (typeof v !== "object" || v === null || typeof v.embed !== "function" || typeof v.id !== "string" || typeof v.provider !== "string") return false;
  return v.dimensions === undefined || (Number.isInteger(v.dimensions) && v.dimensions >= 1 && v.dimensions <= 16_384);
}

export function isModelObject(value: unknown): value is LanguageModelObject | EmbeddingModelObject {
  return isLanguageModelObject(value) || isEmbeddingModelObject(value);
}

/**
 * The id a model object is registered under, stored as the stage's model and shown in traces and
 * `config.get()`: `<provider>:<id>` (`openai.chat:gpt-4o-mini` for an AI SDK model). Another process that
 * opens the same Context must pass the object again; given as a string, the id is resolved as one.
 */
export function modelObjectId(model: LanguageModelObject | EmbeddingModelObject): string {
  const [provider, id] = "specificationVersion" in model && "modelId" in model ? [model.provider, model.modelId] : [model.provider, (model as LanguageModel).id];
  return id.startsWith(`${provider}:`) ? id.slice(0, 256) : `${provider}:${id}`.slice(0, 256);
}

/** A language model object as Spectron calls it (AI SDK objects adapted, Spectron's own used as they are). */
export function toLanguageModel(model: LanguageModelObject, options: ProviderOptions): LanguageModel {
  return isAISdkLanguageModel(model) ? fromAISdkLanguageModel(model, modelObjectId(model), options) : model;
}

export function toEmbeddingModel(model: EmbeddingModelObject, options: ProviderOptions): EmbeddingModel {
  return isAISdkEmbeddingModel(model) ? fromAISdkEmbeddingModel(model, modelObjectId(model), options) : model;
}
