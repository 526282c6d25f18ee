// The public surface, listed by hand.
export { Spectron } from "./spectron.js";
export type { Turn } from "./spectron.js";
export {
  SpectronError,
  SpectronValidationError,
  ProviderError,
  AccessDeniedError,
  NotFoundError,
  IndexNotReadyError,
  ClosedError,
  BusyError,
  StorageError,
} from "./errors.js";
export type { SpectronErrorCode } from "./errors.js";
export type {
  SpectronOptions,
  IngestInput,
  RecallOptions,
  QueryOptions,
  StateListOptions,
  TracesListOptions,
  TurnsListOptions,
  CallContext,
  Principal,
  RetentionRule,
  CacheConfig,
  Models,
  ModelsInput,
  ProvidersInput,
  Logger,
} from "./config/schemas.js";
export type { ContextConfig } from "./config/config-api.js";
export type { IngestResult } from "./pipeline/ingest.js";
export type { ReflectResult } from "./pipeline/reflect.js";
export type { ChatOptions, ChatResult } from "./pipeline/chat.js";
export type { RecallResult, RecalledChunk } from "./pipeline/recall/recall.js";
export type { KnowledgeAddInput, KnowledgeAddResult, KnowledgeDocument, KnowledgeListOptions } from "./knowledge/knowledge-api.js";
export type { ReindexState } from "./store/contexts.js";
export type { Outcome } from "./pipeline/reconcile.js";
export type { MemoryRecord } from "./state/public-record.js";
export type { MemoryPassage, SearchResult } from "./state/public-passage.js";
export type { StateList } from "./state/state-api.js";
export type { Trace, TraceEdge } from "./traces/traces-api.js";
export type { SweepResult } from "./lifecycle/lifecycle-api.js";
export type { CloseReport, StageUsage } from "./core.js";
export type { Stage, ModelUsage, LanguageModel, EmbeddingModel, Prompt, CallOptions, GenerateResult, ProviderName } from "./models/types.js";
export type { ModelInput, LanguageModelObject, EmbeddingModelObject } from "./models/model-objects.js";
export type { AISdkLanguageModel, AISdkEmbeddingModel } from "./models/ai-sdk-model.js";
export type { Scope } from "./store/scope.js";
export { createServer } from "./surfaces/rest/server.js";
export type { ServerOptions, SpectronServer, ListeningServer, MountedRequest } from "./surfaces/rest/server.js";
export { hashToken } from "./surfaces/rest/auth.js";
export type { TokenEntry, AuthOptions } from "./surfaces/rest/auth.js";
export type { Memories } from "./surfaces/rest/contexts.js";
export type { Problem } from "./surfaces/rest/problem.js";
export type { Job } from "./surfaces/rest/jobs.js";
