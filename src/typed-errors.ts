import { toSpectronError } from "./store/storage-errors.js";

/** The AbortSignal a call was given, if any (read defensively: the argument may be anything). */
function signalOf(args: readonly unknown[]): AbortSignal | undefined {
  for (const arg of args) {
    try {
      const signal = typeof arg === "object" && arg !== null ? (arg as { signal?: unknown }).signal : undefined;
      if (signal instanceof AbortSignal) return signal;
    } catch {
      // A getter that throws: the call itself rejects the argument.
    }
  }
  return undefined;
}

/**
 * Wraps one function so that whatever escapes it, thrown or rejected, is a SpectronError (see toSpectronError).
 * A promise returned twice in a row (close()) is wrapped once, so that callers still get one and the same promise.
 */
export function withTypedErrors<F extends (...args: never[]) => unknown>(method: string, fn: F, gate?: (self: unknown) => Promise<void> | undefined): F {
  // The last promise and its typed form: enough for close(), which hands out one promise again and again.
  let last: { result: Promise<unknown>; typed: Promise<unknown> } | undefined;
  return function (this: unknown, ...args: Parameters<F>) {
    const fail = (error: unknown): never => {
      throw toSpectronError(error, method, signalOf(args));
    };
    // A store still opening: the call runs once it is open (or fails with why it could not be opened).
    const pending = gate?.(this);
    if (pending) return pending.then(() => fn.apply(this, args)).catch(fail);
    try {
      const result = fn.apply(this, args);
      if (!(result instanceof Promise)) return result;
      if (last?.result !== result) last = { result, typed: result.catch(fail) };
      return last.typed;
    } catch (error) {
      return fail(error);
    }
  } as F;
}

/** A namespace whose every method fails only with SpectronErrors. */
export function typedErrors<T extends object>(prefix: string, api: T, gate: () => Promise<void> | undefined): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(api)) {
    out[name] = typeof value === "function" ? withTypedErrors(`${prefix}.${name}`, value as (...args: never[]) => unknown, gate) : value;
  }
  return out as T;
}
