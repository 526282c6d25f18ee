import { HttpProblem } from "./problem.js";

/**
 * A request's JSON body, read with a byte limit: a declared length over the limit is refused before anything
 * is read, a streamed body as soon as it passes it (413). An empty body is `undefined`. A body must say it is
 * JSON (`application/json` or `…+json`, 415) and parse (400). Depth and size of what it holds are bounded
 * by the SDK's own input validation, which every route hands the value to.
 */
export async function readJson(request: Request, limit: number): Promise<unknown> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!request.body) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (size === 0) return undefined;
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpProblem("unsupported_media_type", `Invalid \`content-type\`: expected application/json, received ${JSON.stringify(type.slice(0, 80))}.`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks, size));
  } catch {
    throw new HttpProblem("validation", "Invalid `body`: expected JSON in UTF-8, received bytes that are not UTF-8.");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpProblem("validation", `Invalid \`body\`: expected JSON, received text that does not parse (${(error as Error).message.slice(0, 120)}).`);
  }
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem("payload_too_large", `The request body is larger than ${limit.toLocaleString("en-US")} bytes, this route's limit.`);
}
