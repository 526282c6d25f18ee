import type { CacheConfig, Models } from "./schemas.js";

/** Every default lives here. */
export const LOCAL_MODELS: Readonly<Models> = Object.freeze({
  extraction: "local:rules",
  query_understanding: "local:rules",
  response: "local:rules",
  reflection: "local:rules",
  background: "local:rules",
  embedding: "local:hash-384",
});

/** The spec's defaults when an OpenAI key is at hand as the Context is created. */
export const OPENAI_MODELS: Readonly<Models> = Object.freeze({
  extraction: "gpt-4o-mini",
  query_understanding: "gpt-4o-mini",
  response: "gpt-4o-mini",
  reflection: "gpt-4o",
  background: "gpt-4o-mini",
  embedding: "text-embedding-3-small",
});

export const DEFAULT_CACHE: Readonly<CacheConfig> = Object.freeze({ similarity: 0.95, freshness: null, min_trust: 0 });

export const INITIAL_IMPORTANCE = Object.freeze({ identity: 1.0, knowledge: 0.8, context: 0.5 });
export const DAILY_DECAY = Object.freeze({ identity: 1, knowledge: 0.995, context: 0.95 });
export const REINFORCEMENT = 1.1;
/**
 * Below this importance a context or knowledge record expires at the next expiry sweep (lifecycle/survival.ts).
 * A context fact (0.5, ×0.95 a day) reaches it after 45 days without use, a knowledge fact (0.8, ×0.995) after
 * ~550; one use (×1.1) puts it two days (context) or nineteen (knowledge) further off.
 */
export const IMPORTANCE_FLOOR = 0.05;
/** Context facts expire 7 days after creation unless a retention rule says otherwise. */
export const DEFAULT_CONTEXT_TTL_MS = 7 * 86_400_000;

/**
 * Sweep intervals (ms). Consolidation every 6 hours: a few summaries a day per changed cluster keeps summary
 * questions current within a working day while costing at most four background calls a day for a cluster that
 * keeps changing (an unchanged cluster costs none). Elaboration every 12 hours: co-occurrence needs traces to
 * accumulate (a pair must come up in two), and a link proposed half a day later loses nothing.
 */
export const DEFAULT_SCHEDULE = Object.freeze({ decay: 86_400_000, expire: 3_600_000, retry: 60_000, consolidate: 21_600_000, elaborate: 43_200_000 });
