import { Spectron } from "../../spectron.js";
import { SpectronValidationError } from "../../errors.js";

/** The options every command shares (commander's global options). */
export interface GlobalOptions {
  db: string;
  context: string;
  json: boolean;
  debug: boolean;
}

/** Where a command writes: data to `out` (stdout), messages and progress to `err` (stderr). */
export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/**
 * Opens the Context the command names. Short commands run without background schedules (the process exits
 * when the command is done); long-running ones (`serve`, `mcp`) keep the default schedules.
 */
export function openMemory(g: GlobalOptions, { background = false } = {}): Spectron {
  return new Spectron({ context: g.context, path: g.db, ...(background ? {} : { schedule: false as const }) });
}

/** `k=v` pairs (repeatable `--scope`) as a scope object; the SDK validates names and values. */
export function parseScope(pairs: readonly string[] | undefined, field = "--scope"): Record<string, string> {
  const scope: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new SpectronValidationError(field, "a dimension and a value as k=v (such as user=alice)", pair);
    const key = pair.slice(0, eq);
    if (Object.prototype.hasOwnProperty.call(scope, key)) throw new SpectronValidationError(field, `one value per dimension (\`${key}\` is given twice)`, pair);
    scope[key] = pair.slice(eq + 1);
  }
  return scope;
}

/** Commander's collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A positive integer option (`--limit`), checked here because commander hands over strings. */
export function parseCount(field: string) {
  return (value: string): number => {
    if (!/^[0-9]{1,7}$/.test(value) || Number(value) < 1) throw new SpectronValidationError(field, "a positive integer", value);
    return Number(value);
  };
}

export function writeJson(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}
