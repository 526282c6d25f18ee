import type { Logger } from "../../config/schemas.js";
import { SpectronError } from "../../errors.js";
import type { Db } from "../database.js";
import { VectorIndex } from "../vector-index.js";
import { vectorSource, type LoggedVectorWrite, type VectorSpace } from "../vectors.js";

/** Vectors awaiting hnswlib insertion beyond which writers wait (see `drainIfBacklogged`). */
const PENDING_LIMIT = 512;

/** What `close()` could not save: an index file listed here is rebuilt from the database on the next open. */
export interface UnsavedIndex {
  path: string;
  code: string;
  message: string;
}

/**
 * The ANN indexes of one Context on one connection, one per (vector space, embedding model), opened (and caught
 * up from the change log) on first use. Committed vector writes reach them through `notify`, called by the
 * engine's writer only (store/sqlite/writer.ts).
 */
export class VectorIndexes {
  private readonly indexes = new Map<string, VectorIndex>();
  /** The dimension of a model's vectors, as the model registry knows it (Core sets it); undefined: not known yet. */
  dimensionsOf: (model: string) => number | undefined = () => undefined;

  constructor(
    private readonly db: Db,
    private readonly context: string,
    /** The database file, or ":memory:" (indexes then have no sidecar). */
    private readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** The index of one vector space for one embedding model, opened on first use. */
  get(space: VectorSpace, model: string): VectorIndex {
    const key = `${space}\u0000${model}`;
    let index = this.indexes.get(key);
    if (!index) {
      const dim = this.dimensionsOf(model);
      if (dim === undefined) {
        throw new SpectronError(
          "internal",
          `The dimension of embedding model \`${model}\` is not known yet: it is learnt from its first reply. Declare it with \`providers: { <name>: { baseURL, dimensions: { "<model>": <dim> } } }\`.`,
        );
      }
      const sidecar =
        this.path === ":memory:" ? undefined : `${this.path}.${this.context.replace(/[^A-Za-z0-9._-]/g, "_")}.${space}.${model.replace(/[^A-Za-z0-9]/g, "_")}.hnsw`;
      index = VectorIndex.open({
        source: vectorSource(this.db, this.context, space, model, dim),
        ...(sidecar ? { path: sidecar } : {}),
        logger: this.logger,
      });
      this.indexes.set(key, index);
    }
    return index;
  }

  /** The index if it is open, else undefined (exact search reads its in-memory vectors when it is). */
  existing(space: VectorSpace, model: string): VectorIndex | undefined {
    return this.indexes.get(`${space}\u0000${model}`);
  }

  /**
   * Committed vector writes, in commit order. An open index learns of them now; one not open yet reads them from
   * the change log when it opens (queries have none: tier 2 searches them exactly).
   */
  notify(writes: readonly LoggedVectorWrite[]): void {
    for (const { space, model, change } of writes) this.existing(space, model)?.notify(change);
  }

  /**
   * Backpressure for bursts of writes: vectors not yet in hnswlib are searched exactly, so a backlog that the
   * background cannot drain (a tight ingest loop never yields to it) makes every search slower. Past
   * PENDING_LIMIT the writer waits for the index to catch up.
   */
  async drainIfBacklogged(space: VectorSpace, model: string): Promise<void> {
    const index = this.existing(space, model);
    if (index && index.pendingCount > PENDING_LIMIT) await index.flush();
  }

  /** Pending ANN insertions done. */
  async idle(): Promise<void> {
    for (const index of this.indexes.values()) await index.flush();
  }

  /** Flushes and saves every index; what could not be saved is returned (and logged), never thrown. */
  async close(): Promise<UnsavedIndex[]> {
    const unsaved: UnsavedIndex[] = [];
    try {
      for (const index of this.indexes.values()) {
        try {
          await index.flush();
        } catch {
          // A background batch failed; close() below still saves what hnswlib holds, up to the seq it holds.
        }
        try {
          index.close();
        } catch (error) {
          const e = error as { code?: unknown; message?: unknown };
          const entry = { path: index.path ?? "", code: typeof e?.code === "string" ? e.code : "unknown", message: String(e?.message ?? error) };
          unsaved.push(entry);
          this.logger.warn("ANN index not saved on close; it is rebuilt from the database on the next open", entry);
        }
      }
    } finally {
      this.indexes.clear();
    }
    return unsaved;
  }
}
