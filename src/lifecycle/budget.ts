import type { Core } from "../core.js";
import type { GenerateResult, Prompt } from "../models/types.js";
import { backlogSize, readBudget, writeBudgetWindow, type BudgetWindow, type DeferredKind } from "../store/budget.js";

const DAY = 86_400_000;

/** What `usage().budget` shows: the cap, the current window's spend, and the work left for a later window. */
export interface BudgetUsage {
  /** The cap set by `config.budget()`; null: none. */
  background_tokens_per_day: number | null;
  /** Start of the current window (a UTC day of the injected clock), ISO 8601. */
  window_start: string;
  /** Background model tokens (input + output) and calls spent in the window, in every process on the file. */
  tokens: number;
  calls: number;
  /** Background work the window could not afford: calls skipped, by kind. */
  deferred: Record<DeferredKind, number>;
  /** Records waiting for background reconciliation in a later window. */
  backlog: number;
}

const emptyWindow = (start: number): BudgetWindow => ({ start, tokens: 0, calls: 0, deferred: { reconciliation: 0, consolidation: 0, elaboration: 0 } });

function currentWindow(core: Core): { cap: number | null; window: BudgetWindow } {
  const start = Math.floor(core.now() / DAY) * DAY;
  const { config, window } = readBudget(core.db, core.context);
  return { cap: config.background_tokens_per_day, window: window && window.start === start ? window : emptyWindow(start) };
}

/**
 * A prompt's size in tokens before it is sent: a quarter of its characters, which over-counts for English text
 * with every tokenizer in use (and for the local model's word counts), so a call the estimate admits rarely
 * takes the window past its cap.
 */
export function estimateTokens<I, O>(prompt: Prompt<I, O>, input: I): number {
  return Math.ceil((prompt.system.length + prompt.render(input).length) / 4);
}

/** Whether the window can afford `tokens` more background tokens. */
export function affordable(core: Core, tokens: number): boolean {
  const { cap, window } = currentWindow(core);
  return cap === null || window.tokens + tokens <= cap;
}

/** Counts `calls` background calls of `kind` the budget skipped in the current window. */
export function noteDeferred(core: Core, kind: DeferredKind, calls = 1): void {
  const { window } = currentWindow(core);
  window.deferred[kind] += calls;
  core.transaction(() => writeBudgetWindow(core.db, core.context, window));
}

/**
 * One background model call under the Context's budget: skipped (undefined, counted as deferred `kind`) when
 * the window cannot afford the prompt's estimated size; otherwise made on `stage`'s model, its usage recorded
 * in `usage()` and charged to the window. Reconciliation runs on `reflection`; summaries and proposals on
 * `background`.
 */
export async function budgetedCall<I, O>(
  core: Core,
  stage: "reflection" | "background",
  kind: DeferredKind,
  prompt: Prompt<I, O>,
  input: I,
): Promise<GenerateResult<O> | undefined> {
  if (!affordable(core, estimateTokens(prompt, input))) {
    noteDeferred(core, kind);
    return undefined;
  }
  const result = await core.model(stage).generate(prompt, input, { signal: core.queue.signal });
  core.recordUsage(stage, result.usage);
  const { window } = currentWindow(core);
  window.tokens += result.usage.inputTokens + result.usage.outputTokens;
  window.calls += 1;
  core.transaction(() => writeBudgetWindow(core.db, core.context, window));
  return result;
}

export function budgetUsage(core: Core): BudgetUsage {
  const { cap, window } = currentWindow(core);
  return {
    background_tokens_per_day: cap,
    window_start: new Date(window.start).toISOString(),
    tokens: window.tokens,
    calls: window.calls,
    deferred: { ...window.deferred },
    backlog: backlogSize(core.db, core.context),
  };
}
