// The public input types are written out by hand (src/types/inputs.ts) so that the published declarations name no
// zod type. This file holds them to the zod schemas that validate them: `npm test` type-checks it (tsc --noEmit),
// and a drift either way (a field the schema accepts that the type lacks, or the reverse) fails the check.
import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import {
  callContextSchema,
  ingestBatchSchema,
  ingestSchema,
  principalSchema,
  queryOptionsSchema,
  recallOptionsSchema,
  retentionRuleSchema,
  stateListSchema,
  stateUpdateSchema,
  tracesListSchema,
  turnsListSchema,
  modelsSchema,
  spectronOptionsSchema,
} from "../src/config/schemas.js";
import { knowledgeAddSchema, knowledgeListSchema } from "../src/knowledge/knowledge-api.js";
import type { RecordRow } from "../src/store/records.js";
import type { TraceKind as StoredTraceKind } from "../src/store/traces.js";
import type {
  CallContext,
  IngestBatchInput,
  IngestInput,
  KnowledgeAddInput,
  KnowledgeListOptions,
  MemoryRecord,
  ModelsInput,
  Principal,
  QueryOptions,
  RecallOptions,
  RetentionRule,
  SpectronOptions,
  StateListOptions,
  StateUpdate,
  Trace,
  TracesListOptions,
  TurnsListOptions,
} from "../src/index.js";

/**
 * The same keys (an optional field one side lacks would pass assignability alone), and mutual assignability, so
 * that `readonly`, `?: T | undefined` and `?: T` compare equal.
 */
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Same<A, B> = Mutual<keyof A, keyof B> extends true ? Mutual<A, B> : false;
const same = <A, B>(ok: Same<A, B>) => ok;

describe("public types match the schemas that check them", () => {
  it("inputs", () => {
    // Each line fails to compile when the hand-written type and the schema's input drift apart.
    expect([
      same<IngestInput, z.input<typeof ingestSchema>>(true),
      same<IngestBatchInput, z.input<typeof ingestBatchSchema>>(true),
      same<RecallOptions, z.input<typeof recallOptionsSchema>>(true),
      same<QueryOptions, z.input<typeof queryOptionsSchema>>(true),
      same<StateListOptions, z.input<typeof stateListSchema>>(true),
      same<StateUpdate, z.input<typeof stateUpdateSchema>>(true),
      same<TracesListOptions, z.input<typeof tracesListSchema>>(true),
      same<TurnsListOptions, z.input<typeof turnsListSchema>>(true),
      same<CallContext, z.input<typeof callContextSchema>>(true),
      same<Principal, z.input<typeof principalSchema>>(true),
      same<RetentionRule, z.input<typeof retentionRuleSchema>>(true),
      // Model objects: the schema checks them with a type guard; the keys (stages) must agree.
      same<keyof ModelsInput, keyof z.input<typeof modelsSchema>>(true),
      // providersSchema is declared as z.ZodType<ProvidersInput>: the same type by construction.
      same<KnowledgeAddInput, z.input<typeof knowledgeAddSchema>>(true),
      same<KnowledgeListOptions, z.input<typeof knowledgeListSchema>>(true),
      // The schema types `clock` as any function (the public type says what it must return) and `secretKey` as a
      // Uint8Array over an ArrayBuffer (the public type takes any Uint8Array, as the check at runtime does).
      same<Omit<SpectronOptions, "clock" | "secretKey" | "models" | "providers">, Omit<z.input<typeof spectronOptionsSchema>, "clock" | "secretKey" | "models" | "providers">>(true),
    ]).not.toContain(false);
  });

  it("outputs name the stored unions", () => {
    expect([
      same<MemoryRecord["kind"], RecordRow["kind"]>(true),
      same<MemoryRecord["status"], RecordRow["status"]>(true),
      same<MemoryRecord["memory_category"], RecordRow["memory_category"]>(true),
      same<MemoryRecord["source"]["kind"], RecordRow["source_kind"]>(true),
      same<Trace["kind"], StoredTraceKind>(true),
    ]).not.toContain(false);
    expectTypeOf<Extract<Trace, { kind: "decision_trace" }>["payload"]["outcomes"][number]["record_id"]>().toEqualTypeOf<string>();
  });
});
