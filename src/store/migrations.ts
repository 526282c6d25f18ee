import type Database from "better-sqlite3";

/**
 * Numbered migrations, applied in order and recorded in `schema_migrations`. Never edit a released one:
 * append a new one. Vector tables are created on demand per embedding model (store/vectors.ts), because
 * their dimension is part of their definition.
 */
export const MIGRATIONS: ReadonlyArray<{
  version: number;
  name: string;
  up: (db: Database.Database) => void;
  /**
   * Runs with foreign keys off (SQLite's procedure for rebuilding a table that others reference: with them on,
   * dropping the old table would cascade to its children). The migration checks the keys itself before it commits.
   */
  foreignKeysOff?: true;
}> = [
  {
    version: 1,
    name: "initial schema",
    up: (db) =>
      db.exec(`
        CREATE TABLE contexts (
          name TEXT PRIMARY KEY,
          created_at INTEGER NOT NULL,
          models TEXT NOT NULL,
          retention TEXT NOT NULL DEFAULT '[]',
          cache TEXT NOT NULL,
          providers_configured TEXT NOT NULL DEFAULT '[]',
          providers_sealed TEXT,
          last_decay_at INTEGER,
          -- The embedding model whose vectors retrieval reads; differs from models.embedding during a reindex.
          index_model TEXT,
          reindex TEXT
        );

        CREATE TABLE turns (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          scope_key TEXT NOT NULL,
          role TEXT NOT NULL,
          content TEXT NOT NULL,
          speaker TEXT,
          occurred_at INTEGER,
          metadata TEXT,
          session TEXT,
          principal TEXT,
          on_behalf_of TEXT,
          status TEXT NOT NULL CHECK (status IN ('pending', 'extracted', 'failed')),
          attempts INTEGER NOT NULL DEFAULT 0,
          error TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX turns_by_status ON turns (context, status, id);

        CREATE TABLE records (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          scope_key TEXT NOT NULL,
          kind TEXT NOT NULL,
          memory_category TEXT NOT NULL,
          subject TEXT,
          attribute TEXT,
          value TEXT,
          cardinality TEXT NOT NULL DEFAULT 'many',
          text TEXT NOT NULL,
          norm_text TEXT NOT NULL,
          confidence REAL NOT NULL,
          trust REAL NOT NULL DEFAULT 1.0,
          importance REAL NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('current', 'superseded', 'flagged', 'expired', 'forgotten')),
          superseded_by INTEGER,
          source_kind TEXT NOT NULL,
          source_id TEXT,
          proof_count INTEGER NOT NULL DEFAULT 1,
          derived_from TEXT NOT NULL DEFAULT '[]',
          history TEXT NOT NULL DEFAULT '[]',
          metadata TEXT,
          embedding_model TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          last_accessed_at INTEGER,
          last_decay_at INTEGER NOT NULL,
          expires_at INTEGER
        );
        -- Covers the visibility filter (scope, status, expiry) without touching the rows.
        CREATE INDEX records_by_scope ON records (context, scope_key, status, expires_at);
        CREATE INDEX records_by_attribute ON records (context, scope_key, subject, attribute, status);
        CREATE INDEX records_by_norm_text ON records (context, scope_key, norm_text);
        CREATE INDEX records_by_expiry ON records (context, expires_at) WHERE expires_at IS NOT NULL;

        CREATE VIRTUAL TABLE records_fts USING fts5 (text, content = 'records', content_rowid = 'id');
        CREATE TRIGGER records_fts_insert AFTER INSERT ON records BEGIN
          INSERT INTO records_fts (rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER records_fts_delete AFTER DELETE ON records BEGIN
          INSERT INTO records_fts (records_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER records_fts_update AFTER UPDATE OF text ON records BEGIN
          INSERT INTO records_fts (records_fts, rowid, text) VALUES ('delete', old.id, old.text);
          INSERT INTO records_fts (rowid, text) VALUES (new.id, new.text);
        END;

        -- Per-term document counts, so that retrieval can leave out terms too common to be worth scoring.
        CREATE VIRTUAL TABLE records_fts_vocab USING fts5vocab ('records_fts', 'row');

        CREATE TABLE entities (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          name TEXT NOT NULL,
          norm_name TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          UNIQUE (context, norm_name)
        );
        CREATE TABLE record_entities (
          record_id INTEGER NOT NULL,
          entity_id INTEGER NOT NULL,
          PRIMARY KEY (record_id, entity_id)
        ) WITHOUT ROWID;
        CREATE INDEX record_entities_by_entity ON record_entities (entity_id, record_id);

        CREATE TABLE edges (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          src_type TEXT NOT NULL,
          src_id INTEGER NOT NULL,
          kind TEXT NOT NULL,
          dst_type TEXT NOT NULL,
          dst_id TEXT NOT NULL,
          weight REAL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX edges_by_src ON edges (src_type, src_id, kind);
        CREATE INDEX edges_by_dst ON edges (dst_type, dst_id, kind);

        CREATE TABLE traces (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          kind TEXT NOT NULL,
          principal TEXT,
          on_behalf_of TEXT,
          session TEXT,
          scope_key TEXT,
          payload TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX traces_by_kind ON traces (context, kind, id);
        CREATE INDEX traces_by_session ON traces (context, session, id);

        CREATE TABLE documents (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          scope_key TEXT NOT NULL,
          title TEXT NOT NULL,
          text TEXT NOT NULL,
          metadata TEXT,
          status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'indexed')),
          error TEXT,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE chunks (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
          scope_key TEXT NOT NULL,
          ord INTEGER NOT NULL,
          text TEXT NOT NULL,
          embedding_model TEXT,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX chunks_by_scope ON chunks (context, scope_key);
        CREATE INDEX chunks_by_document ON chunks (document_id);
        CREATE VIRTUAL TABLE chunks_fts USING fts5 (text, content = 'chunks', content_rowid = 'id');
        CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
          INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
          INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;

        -- Past queries (one per tier-3 retrieval), embedded: the tier-2 cache and the ranking feedback read them.
        CREATE TABLE queries (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          scope_key TEXT NOT NULL,
          query TEXT NOT NULL,
          norm_query TEXT NOT NULL,
          retrieval_trace_id INTEGER NOT NULL,
          embedding_model TEXT,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX queries_by_scope ON queries (context, scope_key, id);

        -- The response cache: an answer, the query it answered, and the records it depended on.
        CREATE TABLE cache_entries (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          scope_key TEXT NOT NULL,
          query_id INTEGER NOT NULL,
          norm_query TEXT NOT NULL,
          answer TEXT NOT NULL,
          response_trace_id INTEGER NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX cache_by_query ON cache_entries (context, scope_key, norm_query);
        CREATE INDEX cache_by_query_id ON cache_entries (query_id);
        CREATE TABLE cache_deps (
          record_id INTEGER NOT NULL,
          cache_id INTEGER NOT NULL REFERENCES cache_entries (id) ON DELETE CASCADE,
          PRIMARY KEY (record_id, cache_id)
        ) WITHOUT ROWID;
        CREATE INDEX cache_deps_by_cache ON cache_deps (cache_id);
        CREATE TABLE cache_chunk_deps (
          chunk_id INTEGER NOT NULL,
          cache_id INTEGER NOT NULL REFERENCES cache_entries (id) ON DELETE CASCADE,
          PRIMARY KEY (chunk_id, cache_id)
        ) WITHOUT ROWID;
        CREATE INDEX cache_chunk_deps_by_cache ON cache_chunk_deps (cache_id);
        -- What a cached answer is about ("attr:user/plan", "ent:lisbon"): a new fact on a topic evicts it.
        CREATE TABLE cache_topics (
          topic TEXT NOT NULL,
          cache_id INTEGER NOT NULL REFERENCES cache_entries (id) ON DELETE CASCADE,
          PRIMARY KEY (topic, cache_id)
        ) WITHOUT ROWID;
        CREATE INDEX cache_topics_by_cache ON cache_topics (cache_id);

        -- Progress of a running reindex: rows already embedded with the new model.
        CREATE TABLE reindex_done (
          space TEXT NOT NULL,
          model TEXT NOT NULL,
          label INTEGER NOT NULL,
          PRIMARY KEY (space, model, label)
        ) WITHOUT ROWID;

        -- Ordered log of vector writes, so that a saved ANN index catches up by replay instead of a rebuild.
        CREATE TABLE vector_changes (
          seq INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          space TEXT NOT NULL,
          model TEXT NOT NULL,
          label INTEGER NOT NULL,
          op TEXT NOT NULL CHECK (op IN ('add', 'remove'))
        );
        CREATE INDEX vector_changes_by_space ON vector_changes (context, space, model, seq);
      `),
  },
  {
    version: 2,
    name: "source trust calibration",
    up: (db) =>
      db.exec(`
        -- Who asserted a record (a principal's or speaker's turns, one document, a model-derived kind); see
        -- pipeline/calibration.ts. Records written before this migration have none and are never calibrated.
        ALTER TABLE records ADD COLUMN source_key TEXT;
        CREATE INDEX records_by_source ON records (context, source_key, status) WHERE source_key IS NOT NULL;
        CREATE TABLE sources (
          context TEXT NOT NULL,
          key TEXT NOT NULL,
          asserted INTEGER NOT NULL DEFAULT 0,
          corrected INTEGER NOT NULL DEFAULT 0,
          trust REAL NOT NULL DEFAULT 1.0,
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (context, key)
        ) WITHOUT ROWID;
      `),
  },
  {
    version: 3,
    name: "documents: attempts, failed status, author",
    foreignKeysOff: true,
    up: (db) => {
      // Rebuilt rather than altered: the status CHECK gains 'failed'. Chunks reference documents (ON DELETE
      // CASCADE), so this must run with foreign keys off, or dropping the old table deletes every chunk.
      if (db.pragma("foreign_keys", { simple: true }) !== 0) throw new Error("Migration 3 must run with foreign keys off.");
      db.exec(`
        CREATE TABLE documents_v3 (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          scope_key TEXT NOT NULL,
          title TEXT NOT NULL,
          text TEXT NOT NULL,
          metadata TEXT,
          status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'indexed', 'failed')),
          error TEXT,
          -- Indexing attempts started (a crash mid-attempt counts: a document that kills the process is not retried forever).
          attempts INTEGER NOT NULL DEFAULT 0,
          principal TEXT,
          on_behalf_of TEXT,
          session TEXT,
          created_at INTEGER NOT NULL,
          -- Set when an attempt starts and after each model call: a recent value means a process may be working on it.
          updated_at INTEGER NOT NULL
        );
        INSERT INTO documents_v3 (id, context, scope_key, title, text, metadata, status, error, attempts, created_at, updated_at)
          SELECT id, context, scope_key, title, text, metadata, status, error, 1, created_at, created_at FROM documents;
        DROP TABLE documents;
        ALTER TABLE documents_v3 RENAME TO documents;
        CREATE INDEX documents_by_status ON documents (context, status, id);
      `);
      const broken = db.pragma("foreign_key_check") as unknown[];
      if (broken.length > 0) throw new Error(`Migration 3 left ${broken.length} broken foreign keys.`);
    },
  },
  {
    version: 4,
    name: "question signatures on cached answers",
    up: (db) =>
      db.exec(`
        -- What the cached answer's question asked (pipeline/recall/question-signature.ts): tier 2 reuses an
        -- answer only for a question with the same signature. Entries cached before have none: never reused
        -- at tier 2 (tier 1, the same words, still serves them).
        ALTER TABLE cache_entries ADD COLUMN signature TEXT;
        CREATE INDEX cache_by_signature ON cache_entries (context, scope_key, signature) WHERE signature IS NOT NULL;
      `),
  },
  {
    version: 5,
    name: "turns as passages",
    up: (db) =>
      db.exec(`
        -- A turn is also a passage (pipeline/recall/passages.ts): searchable beside the records extracted from it.
        -- facts: records its extraction created; passage_expires_at: the longest-lived of them (NULL: one never
        -- expires), or the context TTL when there are none. See store/passages.ts for the visibility rule.
        ALTER TABLE turns ADD COLUMN facts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE turns ADD COLUMN passage_expires_at INTEGER;
        CREATE INDEX turns_by_scope ON turns (context, scope_key, id);
        CREATE INDEX records_by_source_id ON records (source_id, status) WHERE source_kind = 'turn';
        -- Porter stemming ("moved", "moving" → "move") and Unicode folding: passages are raw speech.
        CREATE VIRTUAL TABLE turns_fts USING fts5 (content, content = 'turns', content_rowid = 'id', tokenize = 'porter unicode61');
        CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns BEGIN
          INSERT INTO turns_fts (rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns BEGIN
          INSERT INTO turns_fts (turns_fts, rowid, content) VALUES ('delete', old.id, old.content);
        END;
        CREATE TRIGGER turns_fts_update AFTER UPDATE OF content ON turns BEGIN
          INSERT INTO turns_fts (turns_fts, rowid, content) VALUES ('delete', old.id, old.content);
          INSERT INTO turns_fts (rowid, content) VALUES (new.id, new.content);
        END;
        CREATE VIRTUAL TABLE turns_fts_vocab USING fts5vocab ('turns_fts', 'row');
        INSERT INTO turns_fts (turns_fts) VALUES ('rebuild');
        -- Turns written before this migration: a passage for as long as any record extracted from them lives;
        -- with none, for the default context TTL (7 days) from when they were written.
        UPDATE turns SET facts = (SELECT COUNT(*) FROM records r WHERE r.source_kind = 'turn' AND r.source_id = 'turn_' || turns.id);
        UPDATE turns SET passage_expires_at = created_at + 604800000 WHERE facts = 0;
      `),
  },
  {
    version: 6,
    name: "background budget and backlog",
    up: (db) =>
      db.exec(`
        -- config.budget(): {"background_tokens_per_day": n | null}; NULL: no cap.
        ALTER TABLE contexts ADD COLUMN budget TEXT;
        -- The current budget window (one UTC day of the injected clock): tokens and calls spent, work deferred.
        ALTER TABLE contexts ADD COLUMN budget_window TEXT;
        -- Background reconciliation the budget deferred: records to compare with their neighbours in a later
        -- window (lifecycle/budget.ts, pipeline/reflection-pass.ts).
        CREATE TABLE background_backlog (
          id INTEGER PRIMARY KEY,
          context TEXT NOT NULL,
          record_id INTEGER NOT NULL,
          principal TEXT,
          on_behalf_of TEXT,
          session TEXT,
          parent_trace INTEGER NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX background_backlog_by_context ON background_backlog (context, id);
      `),
  },
  {
    version: 7,
    name: "erasure: tombstones and secure deletes",
    up: (db) =>
      db.exec(`
        -- An expired or forgotten record is erased (store/erase.ts): its words go, a tombstone stays. erased_at
        -- says when; state.get reports it.
        ALTER TABLE records ADD COLUMN erased_at INTEGER;
        -- The expiry sweep finds records decayed below the importance floor (lifecycle/survival.ts) by this.
        CREATE INDEX records_by_importance ON records (context, importance);
        -- FTS5 removes a deleted row's terms from the index at once instead of writing delete markers beside them.
        INSERT INTO records_fts (records_fts, rank) VALUES ('secure-delete', 1);
        INSERT INTO turns_fts (turns_fts, rank) VALUES ('secure-delete', 1);
        INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('secure-delete', 1);
        -- Records expired or forgotten before this migration: their words go too (their traces are not cut).
        UPDATE records SET text = '', norm_text = '', value = NULL, subject = NULL, attribute = NULL, metadata = NULL,
          erased_at = updated_at WHERE status IN ('expired', 'forgotten');
      `),
  },
  {
    version: 8,
    name: "vector storage: one row per vector",
    // sqlite-vec's vec0 tables keep vectors in chunks of 1,024: one vector cost ~600 µs to read (tier 3 read a
    // small scope's from hnswlib instead, ~150 µs each) and a delete rewrote its chunk. Each becomes a plain table
    // (store/vectors.ts), its rows copied, the vec0 table dropped. The CHECK holds the dimension.
    up: (db) => {
      const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE '%USING vec0%'").all() as { name: string; sql: string }[];
      for (const { name, sql } of tables) {
        const dim = Number(/float\[(\d+)\]/.exec(sql)?.[1]);
        if (!name.startsWith("vec_") || !Number.isInteger(dim) || dim <= 0) throw new Error(`Migration 8: unexpected vector table ${name}.`);
        const table = `vectors_${name.slice("vec_".length)}`;
        db.exec(`
          CREATE TABLE ${table} (id INTEGER PRIMARY KEY, context TEXT NOT NULL, embedding BLOB NOT NULL CHECK (length(embedding) = ${dim * 4}));
          CREATE INDEX ${table}_by_context ON ${table} (context);
          INSERT INTO ${table} (id, context, embedding) SELECT rowid, context, embedding FROM ${name} ORDER BY rowid;
          DROP TABLE ${name};
        `);
      }
    },
  },
];
