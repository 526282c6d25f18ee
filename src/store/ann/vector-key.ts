/**
 * A 53-bit hash of a vector's bytes (two murmur3-style lanes over its 32-bit words), the key under which
 * identical vectors meet. Equal bytes give equal keys; a match is still confirmed against the stored point.
 */
export function vectorKey(vector: Float32Array): number {
  const words = new Uint32Array(vector.buffer, vector.byteOffset, vector.length);
  let a = 0x9747b28c;
  let b = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let m = Math.imul(w, 0xcc9e2d51);
    m = Math.imul((m << 15) | (m >>> 17), 0x1b873593);
    a ^= m;
    a = Math.imul((a << 13) | (a >>> 19), 5) + 0xe6546b64;
    // A second lane with another rotation and multiplier, so that the two do not collide together.
    b ^= m;
    b = Math.imul((b << 17) | (b >>> 15), 0x01000193);
  }
  a = finalMix(a ^ words.length);
  b = finalMix(b);
  return (a >>> 11) * 2 ** 32 + (b >>> 0);
}

/** murmur3's fmix32: spreads every input bit over the whole word. */
function finalMix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
