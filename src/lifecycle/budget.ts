import type { Core } from "../core.js";
import type { GenerateResult, Prompt } from "../models/types.js";
import { emptyWindow, type BudgetState, type DeferredKind } from "../store/budget.js";

/** What a budgeted call uses: the budget window in the store, the clock, the stage's model, the scheduler's signal. */
export type BudgetDeps = Pick<Core, "store" | "now" | "models" | "queue">;

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

/** Start of the budget window (a UTC day of the injected clock) that `now` falls in. */
const windowStart = (now: number) => Math.floor(now / DAY) * DAY;

/**
 * A prompt's size in tokens before it is sent: a quarter of its characters, which over-counts for English text
 * with every tokenizer in use (and for the local model's word counts), so a call the estimate admits rarely
 * takes the window past its cap.
 */
export function estimateTokens<I, O>(prompt: Prompt<I, O>, input: I): number {
  return Math.ceil((prompt.system.length + prompt.render(input).length) / 4);
}

/** Whether the current window can afford `tokens` more background tokens. */
async function affordable(core: BudgetDeps, tokens: number): Promise<boolean> {
  const { config, window } = await core.store.budget();
  const cap = config.background_tokens_per_day;
  const spent = window && window.start === windowStart(core.now()) ? window.tokens : 0;
  return cap === null || spent + tokens <= cap;
}

/**
 * One background model call under the Context's budget: skipped (undefined, counted as deferred `kind`) when
 * the window cannot afford the prompt's estimated size; otherwise made on `stage`'s model, its usage recorded
 * in `usage()` and charged to the window. Reconciliation runs on `reflection`; summaries and proposals on
 * `background`.
 */
export async function budgetedCall<I, O>(
  core: BudgetDeps,
  stage: "reflection" | "background",
  kind: DeferredKind,
  prompt: Prompt<I, O>,
  input: I,
): Promise<GenerateResult<O> | undefined> {
  if (!(await affordable(core, estimateTokens(prompt, input)))) {
    await core.store.chargeBudget({ windowStart: windowStart(core.now()), deferred: { [kind]: 1 } });
    return undefined;
  }
  const result = await core.models.model(stage).generate(prompt, input, { signal: core.queue.signal });
  core.models.recordUsage(stage, result.usage);
  await core.store.chargeBudget({ windowStart: windowStart(core.now()), tokens: result.usage.inputTokens + result.usage.outputTokens, calls: 1 });
  return result;
}

/** `usage().budget` of the stored budget `state` at `now`: a window of an earlier day shows as a fresh one. */
export function budgetUsage(state: BudgetState, now: number): BudgetUsage {
  const start = windowStart(now);
  const window = state.window && state.window.start === start ? state.window : emptyWindow(start);
  return {
    background_tokens_per_day: state.config.background_tokens_per_day,
    window_start: new Date(window.start).toISOString(),
    tokens: window.tokens,
    calls: window.calls,
    deferred: { ...window.deferred },
    backlog: state.backlog,
  };
}
