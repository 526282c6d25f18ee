import { SpectronValidationError } from "../errors.js";

/** Bounds every public input is held to before zod (or anything else) reads it. */
export const INPUT_LIMITS = {
  /** Nesting of objects and arrays, counted from the argument itself. */
  depth: 32,
  /** Objects, arrays and values in one argument. */
  nodes: 50_000,
  /** Characters of all strings (keys included) in one argument: a 5,000,000-character document plus room. */
  chars: 6_000_000,
  /** Characters of one object key. */
  keyChars: 256,
} as const;

/** Objects zod checks by class itself (`z.instanceof`, `z.date()`, functions): passed through as leaves. */
function isLeafObject(value: object): boolean {
  return value instanceof Date || value instanceof AbortSignal || value instanceof Uint8Array;
}

/** String.prototype.isWellFormed (Node 20+; not in the ES2022 lib this package compiles against). */
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function pathOf(root: string, path: readonly (string | number)[]): string {
  // A path 32 levels deep is shown by its ends.
  if (path.length > 8) return `${pathOf(root, path.slice(0, 3))}…${pathOf("", path.slice(-3))}`;
  return root + path.map((p) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p.slice(0, 40))}]`)).join("");
}

/**
 * Walks a public argument once, before any work, and rejects what no schema should have to survive: a cycle,
 * nesting deeper than 32, more than 50,000 values or 6,000,000 characters in all, a `Map`, `Set` or class
 * instance where a plain object or array belongs, a `__proto__` key, an object key over 256 characters, a
 * property getter that throws, and a string with a lone UTF-16 surrogate (it cannot be stored as UTF-8
 * without being changed). `opaque` names top-level keys whose values are the caller's own objects (a logger)
 * and are not walked (`models.*`: every value of `models`, which may be model objects).
 *
 * Bounded in time by the limits: the walk stops at the first excess.
 */
export function guardInput(value: unknown, root: string, opaque: ReadonlySet<string> = NO_KEYS): void {
  const budget = { nodes: INPUT_LIMITS.nodes, chars: INPUT_LIMITS.chars };
  const ancestors = new Set<object>();
  const path: (string | number)[] = [];
  const fail = (expected: string, received: unknown): never => {
    throw new SpectronValidationError(pathOf(root, path), expected, received);
  };

  const visit = (v: unknown): void => {
    if (--budget.nodes < 0) fail(`an argument of at most ${INPUT_LIMITS.nodes.toLocaleString("en-US")} values in all`, "more");
    if (typeof v === "string") {
      budget.chars -= v.length;
      if (budget.chars < 0) fail(`an argument of at most ${INPUT_LIMITS.chars.toLocaleString("en-US")} characters in all`, v);
      if (!wellFormed(v)) fail("well-formed Unicode text (a lone UTF-16 surrogate cannot be stored)", v);
      return;
    }
    if (typeof v !== "object" || v === null || isLeafObject(v)) return;
    if (ancestors.has(v)) fail("a value without circular references", "a circular reference");
    if (path.length >= INPUT_LIMITS.depth) fail(`nesting at most ${INPUT_LIMITS.depth} levels deep`, v);
    const array = Array.isArray(v);
    if (!array && !isPlainObject(v)) {
      if (isOpaque(path, opaque)) return;
      fail("a plain object (not a Map, Set or class instance)", v);
    }
    ancestors.add(v);
    if (array) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        visit(v[i]);
        path.pop();
      }
    } else {
      for (const key of Object.keys(v)) {
        budget.chars -= key.length;
        if (key.length > INPUT_LIMITS.keyChars) fail(`object keys of at most ${INPUT_LIMITS.keyChars} characters`, key);
        if (key === "__proto__") fail("no `__proto__` key", key);
        if (!wellFormed(key)) fail("object keys of well-formed Unicode text", key);
        path.push(key);
        if (!isOpaque(path, opaque)) visit((v as Record<string, unknown>)[key]);
        path.pop();
      }
    }
    ancestors.delete(v);
  };

  try {
    visit(value);
  } catch (error) {
    if (error instanceof SpectronValidationError) throw error;
    // A getter or proxy trap threw while its property was read.
    throw new SpectronValidationError(pathOf(root, path), "a value whose properties can be read", "a property that threw when read");
  }
}

const NO_KEYS: ReadonlySet<string> = new Set();

/** Whether the value at `path` is the caller's own object: a listed top-level key, or `key.*` (any value of `key`), or `*` (any top-level value). */
function isOpaque(path: readonly (string | number)[], opaque: ReadonlySet<string>): boolean {
  if (path.length === 1) return opaque.has(String(path[0])) || opaque.has("*");
  return path.length === 2 && opaque.has(`${String(path[0])}.*`);
}

/** Rejects anything but a plain object or undefined, before it is spread or merged. */
export function guardOptions(value: unknown, field: string): void {
  if (value === undefined) return;
  let plain = false;
  try {
    plain = typeof value === "object" && value !== null && !Array.isArray(value) && isPlainObject(value);
  } catch {
    // A proxy whose getPrototypeOf trap throws.
  }
  if (!plain) throw new SpectronValidationError(field, "a plain object", value);
}

/**
 * The injected clock, checked on every reading: a clock that returns NaN, a string or a time outside years
 * 1970–9999 would write dates no reader can use. A bad reading throws SpectronValidationError (`clock`).
 */
export function checkedClock(clock: () => number): () => number {
  return () => {
    const now = clock();
    if (typeof now !== "number" || !(now >= 0 && now <= 253_402_300_799_999)) {
      throw new SpectronValidationError("clock", "a function returning epoch milliseconds (from 0 to year 9999)", now);
    }
    return now;
  };
}
