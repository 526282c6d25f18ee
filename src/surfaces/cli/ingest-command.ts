import { readFile } from "node:fs/promises";
import type { Spectron } from "../../spectron.js";
import type { IngestInput } from "../../config/schemas.js";
import type { IngestResult } from "../../pipeline/ingest.js";
import type { OnProgress } from "../../config/progress.js";
import { SpectronValidationError } from "../../errors.js";

/** The most bytes of JSONL one `spectron ingest` reads (split larger files). */
export const JSONL_MAX_BYTES = 256 * 1024 * 1024;

/** Reads a whole stream, bounded. */
export async function readAll(stream: NodeJS.ReadableStream, field: string): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > JSONL_MAX_BYTES) throw new SpectronValidationError(field, `at most ${JSONL_MAX_BYTES / 1024 / 1024} MB`, `${size} bytes or more`, "Split the input.");
    parts.push(buf);
  }
  return Buffer.concat(parts).toString("utf8");
}

export async function readJsonlSource(file: string | undefined, stdin: NodeJS.ReadableStream): Promise<string> {
  if (file === undefined || file === "-") return readAll(stdin, "stdin");
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new SpectronValidationError("--file", "a readable file", file, error.code ? `(${error.code})` : undefined);
  });
  if (Buffer.byteLength(text) > JSONL_MAX_BYTES) throw new SpectronValidationError("--file", `at most ${JSONL_MAX_BYTES / 1024 / 1024} MB`, file);
  return text;
}

/** An error on one line of a JSONL batch: which line, how many turns were ingested before it, and the cause. */
export class BatchLineError extends Error {
  constructor(
    readonly line: number,
    readonly ingested: number,
    override readonly cause: unknown,
  ) {
    super(`line ${line}: ${cause instanceof Error ? cause.message : String(cause)} (${ingested} turn${ingested === 1 ? "" : "s"} before it ingested)`);
  }
}

/**
 * Parses JSONL turns (one `IngestInput` object per line; blank lines skipped) before ingesting any: a line that
 * is not a JSON object fails the batch with nothing written. `scope` fills in lines without one.
 */
export function parseJsonl(text: string, scope: Record<string, string>): { line: number; input: IngestInput }[] {
  const turns: { line: number; input: IngestInput }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new BatchLineError(i + 1, 0, new SpectronValidationError(`line ${i + 1}`, "a JSON object such as {\"content\": \"…\"}", raw));
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new BatchLineError(i + 1, 0, new SpectronValidationError(`line ${i + 1}`, "a JSON object such as {\"content\": \"…\"}", value));
    }
    const input = value as Record<string, unknown>;
    turns.push({ line: i + 1, input: ("scope" in input ? input : { ...input, scope }) as unknown as IngestInput });
  });
  return turns;
}

/** Ingests turns one after another, in order, reporting progress; stops at the first failure. */
export async function ingestBatch(
  memory: Spectron,
  turns: { line: number; input: IngestInput }[],
  onProgress?: OnProgress,
): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  onProgress?.({ phase: "ingest", done: 0, total: turns.length });
  for (const { line, input } of turns) {
    try {
      results.push(await memory.ingest(input));
    } catch (error) {
      throw new BatchLineError(line, results.length, error);
    }
    onProgress?.({ phase: "ingest", done: results.length, total: turns.length });
  }
  return results;
}

/** The SpectronError behind a batch error (its code decides the exit code). */
export function causeOf(error: unknown): unknown {
  return error instanceof BatchLineError ? error.cause : error;
}
