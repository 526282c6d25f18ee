// Loading LoCoMo (../shared/data/locomo/locomo10.json) and normalising its evidence ids, following the rules in
// ../shared/data/README.md. The data is read in place and never copied into the repository (CC BY-NC 4.0).

import fs from "node:fs";

export interface LocomoTurn {
  diaId: string;
  speaker: string;
  /** The turn text, with its image caption appended when it has one (the caption carries content too). */
  text: string;
  session: number;
  /** Session date, epoch ms. */
  at: number;
}

export interface LocomoQuestion {
  question: string;
  category: 1 | 2 | 3 | 4;
  /** Normalised, de-duplicated evidence dia_ids, all present in the conversation. */
  evidence: string[];
}

export interface LocomoConversation {
  sampleId: string;
  index: number;
  split: "dev" | "test";
  turns: LocomoTurn[];
  questions: LocomoQuestion[];
  /** Questions of categories 1–4 dropped because their evidence did not resolve. */
  unresolved: number;
}

export interface LocomoStats {
  questionsAll: number;
  resolvedAll: number;
  scoredCat1to4: number;
  droppedCat1to4: number;
}

export const CATEGORY_NAMES: Record<number, string> = { 1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop" };

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/** "1:56 pm on 8 May, 2023" → epoch ms (UTC; the dataset gives no zone). */
export function parseSessionDate(text: string): number {
  const m = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})/i.exec(text);
  if (!m) throw new Error(`Unparseable LoCoMo session date: "${text}"`);
  const month = MONTHS.indexOf(m[5]!.toLowerCase());
  if (month < 0) throw new Error(`Unknown month in "${text}"`);
  let hour = Number(m[1]) % 12;
  if (m[3]!.toLowerCase() === "pm") hour += 12;
  return Date.UTC(Number(m[6]), month, Number(m[4]), hour, Number(m[2]));
}

/**
 * Evidence strings as found: "D1:3", "D30:05", "D:11:26", "D8:6; D9:17", "D9:1 D4:4 D4:6", "D". Splits on
 * separators and folds the stray colon and leading zeros. A token that names no turn at all ("D") is kept as
 * is, so that its question counts as not resolving (the README's 1,979).
 */
export function normaliseEvidence(raw: readonly unknown[] | undefined): string[] {
  const out: string[] = [];
  for (const entry of raw ?? []) {
    for (const token of String(entry).split(/[;,\s]+/)) {
      if (!token) continue;
      const m = /^D:?(\d+):(\d+)$/i.exec(token);
      out.push(m ? `D${Number(m[1])}:${Number(m[2])}` : token);
    }
  }
  return [...new Set(out)];
}

interface RawTurn {
  speaker: string;
  dia_id: string;
  text: string;
  blip_caption?: string;
}

interface RawSample {
  sample_id: string;
  conversation: Record<string, unknown>;
  qa: { question: string; category: number; evidence?: unknown[] }[];
}

/** Reads the file; returns undefined when it is absent (the section is then skipped with a message). */
export function loadLocomo(path: string): { conversations: LocomoConversation[]; stats: LocomoStats } | undefined {
  if (!fs.existsSync(path)) return undefined;
  const samples = JSON.parse(fs.readFileSync(path, "utf8")) as RawSample[];
  const stats: LocomoStats = { questionsAll: 0, resolvedAll: 0, scoredCat1to4: 0, droppedCat1to4: 0 };
  const conversations = samples.map((sample, index): LocomoConversation => {
    const conv = sample.conversation;
    const sessions = Object.keys(conv)
      .map((k) => /^session_(\d+)$/.exec(k))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const turns: LocomoTurn[] = [];
    for (const n of sessions) {
      const at = parseSessionDate(String(conv[`session_${n}_date_time`]));
      for (const t of conv[`session_${n}`] as RawTurn[]) {
        const caption = t.blip_caption ? ` [shares a photo: ${t.blip_caption}]` : "";
        turns.push({ diaId: normaliseEvidence([t.dia_id])[0] ?? t.dia_id, speaker: t.speaker, text: `${t.text}${caption}`, session: n, at });
      }
    }
    const known = new Set(turns.map((t) => t.diaId));
    const questions: LocomoQuestion[] = [];
    let unresolved = 0;
    for (const qa of sample.qa) {
      stats.questionsAll++;
      const evidence = normaliseEvidence(qa.evidence);
      const resolves = evidence.length > 0 && evidence.every((id) => known.has(id));
      if (resolves) stats.resolvedAll++;
      if (qa.category < 1 || qa.category > 4) continue;
      if (!resolves) {
        unresolved++;
        stats.droppedCat1to4++;
        continue;
      }
      stats.scoredCat1to4++;
      questions.push({ question: qa.question, category: qa.category as LocomoQuestion["category"], evidence });
    }
    // The split is fixed by the data README: samples 0-4 are for tuning, 5-9 are reported.
    return { sampleId: sample.sample_id, index, split: index < 5 ? "dev" : "test", turns, questions, unresolved };
  });
  return { conversations, stats };
}
