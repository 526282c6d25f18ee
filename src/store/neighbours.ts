import { sqlPluck, type Db } from "./database.js";


/**
 * Live records of one scope that could conflict with a record of `subject`'s `attributes`: the same subject and
 * attribute (or its opposite). An index lookup, whatever the size of the Context.
 */
export function sameSlotIds(db: Db, context: string, scopeKey: string, subject: string, attributes: readonly string[], except: number): number[] {
  if (attributes.length === 0) return [];
  return (
    sqlPluck(
      db,
      `SELECT id FROM records WHERE context = ? AND scope_key = ? AND subject = ? AND attribute IN (${attributes.map(() => "?").join(",")})
         AND status IN ('current', 'flagged') AND id != ? ORDER BY id`,
    ).all(context, scopeKey, subject, ...attributes, except) as number[]
  );
}

/** Ids of the live records of one exact scope that have a vector of `model` (the records_by_scope index). */
export function liveIdsInScope(db: Db, context: string, scopeKey: string, model: string): number[] {
  return sqlPluck(
    db,
    "SELECT id FROM records WHERE context = ? AND scope_key = ? AND status IN ('current', 'flagged') AND embedding_model = ?",
  ).all(context, scopeKey, model) as number[];
}


/** Sum of squares of a vector, kept per vector object: the ANN index hands out the same array while it holds it. */
const squares = new WeakMap<ArrayLike<number>, number>();

function sumOfSquares(v: ArrayLike<number>): number {
  let n = squares.get(v);
  if (n === undefined) {
    n = 0;
    for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
    squares.set(v, n);
  }
  return n;
}

/**
 * Ids among `ids` (but `except`) whose vector is at least `minSimilarity` (cosine) to `query`, with that
 * similarity, in `ids` order: an exact scan. The dot product visits only the query's non-zero components (a
 * component that is zero adds nothing, so the sum is the same, term for term in the same order) and each vector's
 * sum of squares is computed once per array: with the local hash embedder a short fact has ~30 of 384 components
 * set, so a scope of n records costs ~n × 30 multiplications rather than n × 768. A dense embedder costs what a
 * plain scan does.
 */
export function similarAmong(
  query: ArrayLike<number>,
  ids: readonly number[],
  vectorOf: (id: number) => ArrayLike<number> | undefined,
  minSimilarity: number,
  except: number,
): { id: number; similarity: number }[] {
  const nonZero: number[] = [];
  for (let i = 0; i < query.length; i++) if (query[i] !== 0) nonZero.push(i);
  const at = Int32Array.from(nonZero);
  const values = Float64Array.from(nonZero, (i) => query[i]!);
  const qn = sumOfSquares(query);
  const hits: { id: number; similarity: number }[] = [];
  for (const other of ids) {
    if (other === except) continue;
    const v = vectorOf(other);
    if (!v) continue;
    let dot = 0;
    for (let j = 0; j < at.length; j++) dot += v[at[j]!]! * values[j]!;
    const similarity = dot / (Math.sqrt(sumOfSquares(v) * qn) || 1);
    if (similarity >= minSimilarity) hits.push({ id: other, similarity });
  }
  return hits;
}
