// What the tuning aids (tune-fusion.ts, tune-search.ts) share: the conversations of the split they tune on, and
// the settings given on the command line, applied over the defaults of FUSION_WEIGHTS and PASSAGE_SCORING.

import path from "node:path";
import { fileURLToPath } from "node:url";
import { FUSION_WEIGHTS } from "../src/pipeline/recall/hybrid.js";
import { PASSAGE_SCORING } from "../src/pipeline/recall/passages.js";
import { loadLocomo } from "./locomo-data.js";

/** The LoCoMo conversations of the development split (TUNE_SPLIT=test: the test split, read once at the end). */
export function tuningConversations() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const data = loadLocomo(path.resolve(here, "..", "..", "shared", "data", "locomo", "locomo10.json"));
  if (!data) throw new Error("LoCoMo not found");
  const split = process.env.TUNE_SPLIT === "test" ? "test" : "dev";
  return data.conversations.filter((c) => c.split === split);
}

export type TuningSetting = Record<string, number>;

/** One setting per command-line argument (`passage=1,fts=0.5`, PASSAGE_SCORING keys prefixed `p.`); the defaults when none. */
export function tuningSettings(argv: readonly string[] = process.argv.slice(2)): TuningSetting[] {
  const settings = argv.map((arg) => Object.fromEntries(arg.split(",").map((kv) => [kv.split("=")[0]!, Number(kv.split("=")[1])])));
  return settings.length > 0 ? settings : [{}];
}

const defaults = { ...FUSION_WEIGHTS };
const passageDefaults = { ...PASSAGE_SCORING };

/** Sets FUSION_WEIGHTS and PASSAGE_SCORING to their defaults overridden by `setting`. */
export function applySetting(setting: TuningSetting): void {
  const pick = (passage: boolean) =>
    Object.fromEntries(Object.entries(setting).filter(([k]) => k.startsWith("p.") === passage).map(([k, v]) => [k.replace(/^p\./, ""), v]));
  Object.assign(FUSION_WEIGHTS, defaults, pick(false));
  Object.assign(PASSAGE_SCORING, passageDefaults, pick(true));
}
