// The public surface, listed by hand. Every type here is a plain declaration (no zod, SQLite or queue type):
// the published declarations compile in a strict consumer with `skipLibCheck: false` (test/package.test.ts).
export { Spectron } from "./spectron.js";
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
  StoreEngine,
  Scope,
  Permission,
  Grant,
  Principal,
  CallContext,
  DateInput,
  JsonValue,
  Metadata,
  MemoryCategory,
  RecordKind,
  RecordStatus,
  TurnRole,
  TurnStatus,
  IngestMessage,
  IngestInput,
  IngestBatchInput,
  RecallOptions,
  ChatOptions,
  QueryOptions,
  StateListOptions,
  StateUpdate,
  TraceKind,
  TracesListOptions,
  TurnsListOptions,
  KnowledgeAddInput,
  KnowledgeListOptions,
  DocumentStatus,
  StageName,
  Models,
  ModelsInput,
  ProviderInput,
  ProvidersInput,
  RetentionRule,
  CacheConfig,
  Interval,
  Logger,
} from "./types/inputs.js";
export type {
  StateApi,
  StateList,
  TracesApi,
  ConfigApi,
  LifecycleApi,
  KnowledgeApi,
  CacheApi,
  TurnsApi,
  Turn,
  AccessApi,
  IngestBatchResult,
  SpectronView,
  CloseReport,
  StageUsage,
} from "./types/namespaces.js";
export type {
  Trace,
  TraceEdge,
  TraceWithEdges,
  DecisionTrace,
  DecisionTracePayload,
  DecisionOutcome,
  RetrievalTrace,
  RetrievalTracePayload,
  ResponseTrace,
  ResponseTracePayload,
  SweepTrace,
  SweepTracePayload,
  ScoredId,
} from "./types/trace.js";
export type { ContextConfig } from "./config/config-api.js";
export type { IngestResult } from "./pipeline/ingest.js";
export type { ReflectResult } from "./pipeline/reflect.js";
export type { ChatResult } from "./pipeline/chat.js";
export type { RecallResult, RecalledChunk } from "./pipeline/recall/recall.js";
export type { KnowledgeAddResult } from "./knowledge/index-document.js";
export type { KnowledgeDocument } from "./knowledge/knowledge-api.js";
export type { ReindexState } from "./store/contexts.js";
export type { Outcome } from "./store/store.js";
export type { MemoryRecord } from "./state/public-record.js";
export type { MemoryPassage, SearchResult } from "./state/public-passage.js";
export type { SweepResult } from "./lifecycle/lifecycle-api.js";
export type { Stage, ModelUsage, LanguageModel, EmbeddingModel, Prompt, CallOptions, GenerateResult, ProviderName } from "./models/types.js";
export type { ModelInput, LanguageModelObject, EmbeddingModelObject } from "./models/model-objects.js";
export type { AISdkLanguageModel, AISdkEmbeddingModel } from "./models/ai-sdk-model.js";

export type { Progress, OnProgress } from "./config/progress.js";
export { createServer } from "./surfaces/rest/server.js";
export type { ServerOptions, SpectronServer, ListeningServer, MountedRequest } from "./surfaces/rest/server.js";
export { hashToken } from "./surfaces/rest/auth.js";
export type { TokenEntry, AuthOptions } from "./surfaces/rest/auth.js";
export type { Memories } from "./surfaces/rest/contexts.js";
export type { Problem } from "./surfaces/rest/problem.js";
export type { Job } from "./surfaces/rest/jobs.js";
