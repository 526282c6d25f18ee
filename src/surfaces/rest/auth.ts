import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { parseInput, principalSchema, type Principal } from "../../config/schemas.js";
import { SpectronValidationError } from "../../errors.js";
import { HttpProblem } from "./problem.js";

const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const tokenEntrySchema = z.strictObject({
  /** The token's SHA-256, as 64 hexadecimal digits (`hashToken(token)`): the token itself is never stored. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 digest as 64 lowercase hexadecimal digits (hashToken(token))"),
  /** Who a request bearing this token acts as: every call runs as `memory.as(principal)`. */
  principal: principalSchema,
  /** The Contexts this token reaches; every Context the server serves when omitted. */
  contexts: z.array(z.string().regex(CONTEXT_NAME, "a Context name")).min(1).max(1000).optional(),
});
export type TokenEntry = z.infer<typeof tokenEntrySchema>;

export const tokensFileSchema = z.strictObject({ tokens: z.array(tokenEntrySchema).max(10_000) });

export const authOptionsSchema = z.union(
  [
    z.literal(false),
    z.strictObject({
      tokens: z.array(tokenEntrySchema).max(10_000).optional(),
      /** A JSON file `{ "tokens": [{ "sha256", "principal", "contexts"? }] }`, read once when the server is created. */
      file: z.string().min(1).max(4096).optional(),
    }),
  ],
  { error: "{ tokens } or { file } (bearer tokens mapped to principals), or false to serve without authentication" },
);
export type AuthOptions = z.input<typeof authOptionsSchema>;

/** The SHA-256 of a bearer token, as stored in `tokens[].sha256` and in a tokens file. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Who a request acts as: `principal` undefined only on a server started with `auth: false` (the application). */
export interface Caller {
  principal: Principal | undefined;
  contexts: readonly string[] | undefined;
}

/**
 * Bearer tokens mapped to principals. Tokens are held as SHA-256 digests only; a presented token is hashed
 * and compared with every digest in constant time (no early exit), so timing reveals neither which digest
 * nor how much of one matched.
 */
export class TokenAuth {
  readonly #entries: { digest: Buffer; entry: TokenEntry }[];

  constructor(readonly enabled: boolean, entries: readonly TokenEntry[]) {
    this.#entries = entries.map((entry) => ({ digest: Buffer.from(entry.sha256, "hex"), entry }));
  }

  static from(options: unknown): TokenAuth {
    if (options === undefined) {
      throw new SpectronValidationError(
        "options.auth",
        "{ tokens } or { file } (bearer tokens mapped to principals), or false to serve without authentication",
        options,
        "A server never starts open by accident: pass `auth: false` (`--no-auth`) to allow every request as the application.",
      );
    }
    const auth = parseInput(authOptionsSchema, options, "options.auth");
    if (auth === false) return new TokenAuth(false, []);
    const entries = [...(auth.tokens ?? [])];
    if (auth.file !== undefined) {
      let text: string;
      try {
        text = readFileSync(auth.file, "utf8");
      } catch (error) {
        throw new SpectronValidationError("options.auth.file", "a readable tokens file", auth.file, `(${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new SpectronValidationError("options.auth.file", "a JSON file { \"tokens\": [...] }", auth.file, "It does not parse as JSON.");
      }
      entries.push(...parseInput(tokensFileSchema, json, "tokens file").tokens);
    }
    return new TokenAuth(true, entries);
  }

  /** The caller a request's `Authorization` header names; throws a 401 problem when it names none. */
  authenticate(header: string | undefined): Caller {
    if (!this.enabled) return { principal: undefined, contexts: undefined };
    const match = header === undefined ? null : /^Bearer[ ]+([\x21-\x7e]{1,4096})[ ]*$/i.exec(header);
    if (!match) throw new HttpProblem("unauthorized", "Missing or malformed `Authorization` header: expected `Bearer <token>`.");
    const digest = createHash("sha256").update(match[1]!, "utf8").digest();
    let found: TokenEntry | undefined;
    for (const { digest: d, entry } of this.#entries) {
      // Every digest is compared: the loop's time does not depend on which (if any) matched.
      if (timingSafeEqual(d, digest) && !found) found = entry;
    }
    if (!found) throw new HttpProblem("unauthorized", "The bearer token is not valid for this server.");
    return { principal: found.principal, contexts: found.contexts };
  }
}
