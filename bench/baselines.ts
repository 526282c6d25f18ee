// The two LoCoMo baselines, over the raw turn texts (not Spectron's extracted records): BM25 alone through
// an FTS5 table of its own, and exact cosine alone over the same embedder Spectron uses. They say what the
// extraction + fusion pipeline adds (or loses) compared with indexing the transcript directly.

import Database from "better-sqlite3";
import { createLocalEmbeddingModel } from "../src/models/local/index.js";

export const BASELINE_EMBEDDER = "local:hash-384";

/** FTS5 MATCH over every word of the question, each quoted (raw text in MATCH throws on quotes and operators). */
export function ftsMatch(text: string): string | undefined {
  const words = [...new Set((text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 1))];
  return words.length ? words.map((w) => `"${w.replace(/"/g, '""')}"`).join(" OR ") : undefined;
}

export class Bm25Baseline {
  private readonly db = new Database(":memory:");
  private readonly search: Database.Statement;

  constructor(texts: readonly string[]) {
    this.db.exec("CREATE VIRTUAL TABLE turns USING fts5 (text)");
    const insert = this.db.prepare("INSERT INTO turns (rowid, text) VALUES (?, ?)");
    this.db.transaction(() => texts.forEach((t, i) => insert.run(i + 1, t)))();
    this.search = this.db.prepare("SELECT rowid AS i FROM turns WHERE turns MATCH ? ORDER BY bm25(turns) LIMIT ?");
  }

  /** Indexes (0-based, into the texts given) of the top `k` turns by BM25. */
  query(question: string, k: number): number[] {
    const match = ftsMatch(question);
    if (!match) return [];
    return (this.search.all(match, k) as { i: number }[]).map((r) => r.i - 1);
  }

  close(): void {
    this.db.close();
  }
}

export class VectorBaseline {
  private readonly embedder = createLocalEmbeddingModel(BASELINE_EMBEDDER);
  private vectors: Float32Array[] = [];

  async index(texts: readonly string[]): Promise<void> {
    this.vectors = (await this.embedder.embed(texts)).vectors;
  }

  /** Indexes of the top `k` turns by exact cosine (the hash embedder's vectors are L2-normalised). */
  async query(question: string, k: number): Promise<number[]> {
    const q = (await this.embedder.embed([question])).vectors[0]!;
    const scored = this.vectors.map((v, i) => {
      let dot = 0;
      for (let d = 0; d < v.length; d++) dot += v[d]! * q[d]!;
      return { i, dot };
    });
    scored.sort((a, b) => b.dot - a.dot || a.i - b.i);
    return scored.slice(0, k).map((s) => s.i);
  }
}
