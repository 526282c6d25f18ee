import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { NotFoundError, SpectronValidationError } from "../../errors.js";
import { toSpectronError } from "../../store/storage-errors.js";
import { TransferFile } from "../../store/context-transfer.js";
import { writeJson, type GlobalOptions, type Io } from "./cli-context.js";
import { unlessClosedPipe } from "./closed-pipe.js";

/** `spectron export`: the Context as JSONL, read in one snapshot, on stdout or to `--out`. */
export async function exportCommand(g: GlobalOptions, io: Io, o: { out?: string }): Promise<void> {
  if (g.db !== ":memory:" && !existsSync(g.db)) throw new NotFoundError("database file", g.db);
  const file = open(g.db, "export");
  const out = o.out ? createWriteStream(o.out) : io.out;
  const opened = o.out ? once(out, "open") : Promise.resolve();
  let lines = 0;
  try {
    await opened.catch((error: NodeJS.ErrnoException) => {
      throw new SpectronValidationError("--out", "a writable file path", o.out, error.code ? `(${error.code})` : undefined);
    });
    for (const line of file.exportLines(g.context)) {
      // A reader that closed the pipe (`spectron export | head`) wants no more: stop, as a closed pipe is no error.
      if ((out as { destroyed?: boolean }).destroyed) break;
      lines += 1;
      if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, "drain").catch(unlessClosedPipe);
    }
    if (lines === 0) throw new NotFoundError("Context", g.context);
  } catch (error) {
    throw toSpectronError(error, "export");
  } finally {
    file.close();
    if (o.out) {
      out.end();
      await once(out, "close").catch(() => undefined);
    }
  }
  if (o.out) (g.json ? writeJson(io, { lines, out: o.out }) : io.err.write(`Exported ${lines} lines to ${o.out}.\n`));
}

/** `spectron import [file]`: loads an export into a new Context, all or nothing. */
export async function importCommand(g: GlobalOptions, io: Io, file: string | undefined): Promise<void> {
  if (file !== undefined && file !== "-" && !existsSync(file)) throw new NotFoundError("file", file);
  const target = open(g.db, "import");
  try {
    let counts: Record<string, number>;
    const importer = target.startImport(g.context);
    try {
      const input = file === undefined || file === "-" ? io.stdin : createReadStream(file, "utf8");
      let n = 0;
      for await (const text of createInterface({ input, crlfDelay: Infinity })) {
        n += 1;
        if (text.trim() === "") continue;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          throw new SpectronValidationError(`line ${n}`, "a JSON object", text);
        }
        importer.add(n, value);
      }
      counts = importer.commit();
    } catch (error) {
      importer.abandon();
      throw error;
    }
    if (g.json) writeJson(io, { context: g.context, counts });
    else io.err.write(`Imported into Context \`${g.context}\`: ${Object.entries(counts).map(([t, c]) => `${c} ${t}`).join(", ")}.\n`);
  } catch (error) {
    throw toSpectronError(error, "import");
  } finally {
    target.close();
  }
}

function open(path: string, method: string): TransferFile {
  try {
    return new TransferFile(path);
  } catch (error) {
    throw toSpectronError(error, method);
  }
}
