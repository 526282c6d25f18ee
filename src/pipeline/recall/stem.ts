/**
 * A light English suffix stemmer for in-memory BM25 ("moved", "moves", "moving" → "mov"; "hobbies" → "hobby").
 * Conflation, not linguistics: both the query and the passages go through it, so only consistency matters.
 * The FTS5 passage index uses SQLite's Porter tokenizer to the same end.
 */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith("ies") && w.length > 4) return w.slice(0, -3) + "y";
  if (w.endsWith("sses")) return w.slice(0, -2);
  if (/(?:ches|shes|xes|zes)$/.test(w)) return w.slice(0, -2);
  if (w.endsWith("s") && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith("ing") && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith("ed") && w.length > 4) w = undouble(w.slice(0, -2));
  if (w.endsWith("e") && w.length > 3) w = w.slice(0, -1);
  return w;
}

/** "stopp" → "stop", "runn" → "run"; "fall", "pass" keep their double letter. */
function undouble(w: string): string {
  const n = w.length;
  return n > 2 && w[n - 1] === w[n - 2] && !/[lsz]/.test(w[n - 1]!) ? w.slice(0, -1) : w;
}

/** Lower-case words of a text, stemmed. */
export function stemmedWords(text: string): string[] {
  return (text.toLowerCase().replace(/'s\b/g, "").match(/[\p{L}\p{N}]+/gu) ?? []).map(stem);
}
