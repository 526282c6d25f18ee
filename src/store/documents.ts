import { sql, sqlPluck, type Db } from "./database.js";

export type DocumentStatus = "pending" | "indexed" | "failed";

export interface DocumentRow {
  id: number;
  context: string;
  scope_key: string;
  title: string;
  metadata: string | null;
  status: DocumentStatus;
  error: string | null;
  attempts: number;
  principal: string | null;
  on_behalf_of: string | null;
  session: string | null;
  created_at: number;
  updated_at: number;
  /** How many chunks it was cut into. */
  chunks: number;
}

// Every column but `text` (up to 5 MB; its chunks carry it), plus the chunk count.
const COLUMNS = `d.id, d.context, d.scope_key, d.title, d.metadata, d.status, d.error, d.attempts, d.principal, d.on_behalf_of,
  d.session, d.created_at, d.updated_at, (SELECT COUNT(*) FROM chunks c WHERE c.document_id = d.id) AS chunks`;

/** Stores a document and its chunks as `pending`, its first indexing attempt started (inside the caller's transaction). */
export function insertDocument(
  db: Db,
  doc: Pick<DocumentRow, "context" | "scope_key" | "title" | "metadata" | "principal" | "on_behalf_of" | "session" | "created_at"> & { text: string },
  pieces: readonly string[],
): { documentId: number; chunkIds: number[] } {
  const documentId = Number(
    sql(
      db,
      `INSERT INTO documents (context, scope_key, title, text, metadata, status, attempts, principal, on_behalf_of, session, created_at, updated_at)
       VALUES (@context, @scope_key, @title, @text, @metadata, 'pending', 1, @principal, @on_behalf_of, @session, @created_at, @created_at)`,
    ).run(doc).lastInsertRowid,
  );
  const insert = sql(db, "INSERT INTO chunks (context, document_id, scope_key, ord, text, created_at) VALUES (?, ?, ?, ?, ?, ?)");
  const chunkIds = pieces.map((text, ord) => Number(insert.run(doc.context, documentId, doc.scope_key, ord, text, doc.created_at).lastInsertRowid));
  return { documentId, chunkIds };
}

export function getDocument(db: Db, context: string, id: number): DocumentRow | undefined {
  return sql(db, `SELECT ${COLUMNS} FROM documents d WHERE d.id = ? AND d.context = ?`).get(id, context) as DocumentRow | undefined;
}

/** A document's chunks in order. */
export function documentChunks(db: Db, documentId: number): { id: number; text: string }[] {
  return sql(db, "SELECT id, text FROM chunks WHERE document_id = ? ORDER BY ord").all(documentId) as { id: number; text: string }[];
}

export function listDocuments(
  db: Db,
  context: string,
  filter: { status?: DocumentStatus; scopeKeys?: readonly string[]; touchedBefore?: number; limit: number },
): DocumentRow[] {
  const where = ["d.context = ?"];
  const params: unknown[] = [context];
  if (filter.status) (where.push("d.status = ?"), params.push(filter.status));
  if (filter.touchedBefore !== undefined) (where.push("d.updated_at < ?"), params.push(filter.touchedBefore));
  if (filter.scopeKeys) {
    where.push(`d.scope_key IN (${filter.scopeKeys.map(() => "?").join(",")})`);
    params.push(...filter.scopeKeys);
  }
  return sql(db, `SELECT ${COLUMNS} FROM documents d WHERE ${where.join(" AND ")} ORDER BY d.id LIMIT ?`).all(...params, filter.limit) as DocumentRow[];
}

/** Starts another indexing attempt: counted before any model call, so that an attempt that crashes counts too. */
export function startDocumentAttempt(db: Db, id: number, now: number): void {
  sql(db, "UPDATE documents SET attempts = attempts + 1, updated_at = ? WHERE id = ?").run(now, id);
}

/** Marks a document as being worked on (after each model call of an attempt). */
export function touchDocument(db: Db, id: number, now: number): void {
  sql(db, "UPDATE documents SET updated_at = ? WHERE id = ? AND status != 'indexed'").run(now, id);
}

/**
 * Records the failure of the current attempt: the document stays `pending`, or becomes `failed` once
 * `maxAttempts` attempts have been started. Returns the new status (undefined if the document is gone).
 */
export function markDocumentAttemptFailed(db: Db, id: number, now: number, error: string, maxAttempts: number): DocumentStatus | undefined {
  return sqlPluck(
    db,
    `UPDATE documents SET status = CASE WHEN attempts >= ? THEN 'failed' ELSE 'pending' END, error = ?, updated_at = ?
       WHERE id = ? AND status != 'indexed' RETURNING status`,
  ).get(maxAttempts, error, now, id) as DocumentStatus | undefined;
}

export function markDocumentIndexed(db: Db, id: number, now: number): void {
  sql(db, "UPDATE documents SET status = 'indexed', error = NULL, updated_at = ? WHERE id = ?").run(now, id);
}
