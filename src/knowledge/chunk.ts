/** Chunking bounds, in characters. */
export interface ChunkOptions {
  /** @default 1000 */
  maxChars?: number;
  /** Characters of the previous chunk's tail carried into the next (whole sentences). @default 150 */
  overlapChars?: number;
}

const SENTENCE = /[^.!?\n]+(?:[.!?]+["')\]]*|\n|$)/g;

function sentencesOf(paragraph: string): string[] {
  return (paragraph.match(SENTENCE) ?? []).map((s) => s.trim()).filter(Boolean);
}

/** Splits a piece longer than `max` at word boundaries (a sentence with no stops, a table row…). */
function hardSplit(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const cut = rest.lastIndexOf(" ", max);
    const at = cut > max / 2 ? cut : max;
    out.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) out.push(rest);
  return out;
}

/**
 * Paragraph- and sentence-aware chunking: sentences are packed into chunks of at most `maxChars`, never split
 * mid-sentence unless one sentence alone is too long; a paragraph break closes a chunk once it is half full;
 * each chunk begins with the last sentences (up to `overlapChars`) of the one before, so that a fact spanning
 * a boundary is whole in at least one chunk.
 */
export function chunkText(text: string, options: ChunkOptions = {}): string[] {
  const max = options.maxChars ?? 1000;
  const overlap = options.overlapChars ?? 150;
  const paragraphs = text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  const chunks: string[] = [];
  let current: string[] = [];
  let length = 0;
  const flush = () => {
    if (current.length === 0) return;
    chunks.push(current.join(" "));
    const tail: string[] = [];
    let tailLength = 0;
    for (let i = current.length - 1; i >= 0; i--) {
      const s = current[i]!;
      if (tailLength + s.length > overlap) break;
      tail.unshift(s);
      tailLength += s.length + 1;
    }
    // Carrying the whole chunk over would repeat it forever.
    current = tail.length < current.length ? tail : [];
    length = current.reduce((n, s) => n + s.length + 1, 0);
  };
  for (const paragraph of paragraphs) {
    for (const sentence of sentencesOf(paragraph).flatMap((s) => hardSplit(s, max))) {
      if (length + sentence.length > max) flush();
      current.push(sentence);
      length += sentence.length + 1;
    }
    if (length >= max / 2) flush();
  }
  // What is left is either new text or only the overlap tail of the last chunk (already stored).
  const rest = current.join(" ");
  if (rest && !(chunks[chunks.length - 1] ?? "").endsWith(rest)) chunks.push(rest);
  return chunks;
}
