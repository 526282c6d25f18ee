import { fmix32, fnv1a, fnv1aCode } from "./hash.js";
import { STOP_WORDS, stem } from "./text.js";

/**
 * Feature weights. Word stems carry topic; bigrams of content words carry phrasing; character trigrams
 * let "plans"/"planned" and typos meet. Stop words keep a little weight so that a query made only of them
 * still has a direction, but too little to make unrelated sentences look alike.
 */
const WEIGHT = { word: 1, stopWord: 0.15, bigram: 0.5, trigram: 0.3 } as const;

/** Distinct seeds keep a word, a bigram and a trigram that spell the same from colliding on purpose. */
const SEED = { word: fnv1a("w"), bigram: fnv1a("b"), trigram: fnv1a("t") } as const;

const TOKEN = /[\p{L}\p{N}]+(?:['\u2019][\p{L}]+)*/gu;
const SPACE = 0x20;

function add(vector: Float32Array, hash: number, weight: number): void {
  const h = fmix32(hash);
  const index = h % vector.length;
  vector[index] = (vector[index] ?? 0) + (h & 0x80000000 ? -weight : weight);
}

/**
 * Embeds one text by signed feature hashing into `dimensions` buckets, L2-normalised. Deterministic: the
 * same text always gives the same vector. A text with no words maps to a fixed unit vector (1 at index 0)
 * so that cosine similarity stays defined.
 */
export function hashEmbed(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  const tokens = text.toLowerCase().match(TOKEN);
  if (tokens === null) {
    vector[0] = 1;
    return vector;
  }
  let previous: string | undefined;
  for (const raw of tokens) {
    const word = raw.replace(/['\u2019]/g, "");
    if (STOP_WORDS.has(word) || STOP_WORDS.has(raw)) {
      add(vector, fnv1a(word, SEED.word), WEIGHT.stopWord);
      continue;
    }
    const stemmed = stem(word);
    add(vector, fnv1a(stemmed, SEED.word), WEIGHT.word);
    if (previous !== undefined) add(vector, fnv1a(stemmed, fnv1aCode(SPACE, fnv1a(previous, SEED.bigram))), WEIGHT.bigram);
    previous = stemmed;
    // Trigrams of " word ": the padding marks word starts and ends.
    const length = word.length;
    for (let i = -1; i < length - 1; i++) {
      let h = SEED.trigram;
      for (let j = i; j < i + 3; j++) h = fnv1aCode(j < 0 || j >= length ? SPACE : word.charCodeAt(j), h);
      add(vector, h, WEIGHT.trigram);
    }
  }
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += (vector[i] ?? 0) ** 2;
  if (norm === 0) {
    // Every feature cancelled out (vanishingly rare): fall back to the same fixed direction as empty text.
    vector[0] = 1;
    return vector;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}
