import { SpectronError, StorageError } from "../errors.js";
import type { StoreEngine } from "../config/schemas.js";

/** Instances open on each engine: the last one to close closes the engine (ends the pool it created). */
const engineUsers = new WeakMap<StoreEngine, number>();

export async function releaseEngine(engine: StoreEngine): Promise<void> {
  const left = (engineUsers.get(engine) ?? 1) - 1;
  engineUsers.set(engine, left);
  if (left === 0) await engine.close();
}

/** Counts one more instance open on `engine`. */
export function holdEngine(engine: StoreEngine): void {
  engineUsers.set(engine, (engineUsers.get(engine) ?? 0) + 1);
}

/** Why a `store` engine could not be opened, as a typed error (a server that does not answer, a failed migration). */
export function openFailure(error: unknown): unknown {
  if (error instanceof SpectronError) return error;
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "UNKNOWN";
  const detail = typeof e?.message === "string" ? e.message.slice(0, 200) : String(error).slice(0, 200);
  return new StorageError(code, `\`new Spectron\` could not open the store (${code}: ${detail}). Check that the database server is running and reachable, then create the instance again.`, true, { cause: error });
}
