// The in-process ANN index (hnswlib), one concept per file under ann/: hnsw-index (slots, growth, deletion),
// sidecar (the file format beside the index file), dedup-index (one point per distinct vector), heavy-points
// (the exact scan of the most shared points), vector-key, labels.
export { AnnIndex, type AnnHit, type AnnIndexOptions } from "./ann/hnsw-index.js";
export { DedupAnnIndex } from "./ann/dedup-index.js";
export { checkLabel } from "./ann/labels.js";
export { removeStaleTemporaries, type AnnSaveMeta, type AnnSidecarMeta } from "./ann/sidecar.js";
