/**
 * 32-bit FNV-1a over UTF-16 code units, with a murmur3 finaliser. Written out (not imported) because the
 * local embedder must be dependency-free and identical on every platform and Node version.
 */
export const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Continues an FNV-1a hash `h` over `text`; start from FNV_OFFSET or a seed derived from it. */
export function fnv1a(text: string, h: number = FNV_OFFSET): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Continues an FNV-1a hash over one code unit. */
export function fnv1aCode(code: number, h: number): number {
  return Math.imul(h ^ code, FNV_PRIME) >>> 0;
}

/** murmur3's fmix32: spreads FNV's weak low bits so that `h % dim` and the sign bit are independent. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
