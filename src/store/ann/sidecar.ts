import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import nodePath from "node:path";
import { SpectronError } from "../../errors.js";

/** What the caller records beside the index file. `lastSeq` names the last change the file contains. */
export interface AnnSaveMeta {
  lastSeq: number;
  [key: string]: unknown;
}

/**
 * Sidecar format. 2: `VectorIndex` keeps one point per distinct vector and records its groups in the sidecar
 * (see `DedupAnnIndex`); a version 1 file holds one point per label and no groups, so it is refused and rebuilt.
 * 3: the index file's SHA-256 (`checksum`), and what `VectorIndex` records of the change log (`tail`); older
 * files are refused and rebuilt.
 */
const SIDECAR_VERSION = 3;

/** What an index says of itself in its sidecar. */
export interface AnnShape {
  dim: number;
  space: "cosine";
  M: number;
  efConstruction: number;
  efSearch: number;
  /** Live (not deleted) vectors. */
  count: number;
  /** Slots allocated in the file. */
  capacity: number;
  /** Slots in use, live or deleted. */
  elements: number;
  /** Labels whose slots are marked deleted: hnswlib lists them with the live ones, so they are kept here. */
  deleted: number[];
}

/** The JSON sidecar written next to the index file (`path + ".json"`). */
export interface AnnSidecarMeta extends AnnSaveMeta, AnnShape {
  version: typeof SIDECAR_VERSION;
  /** Size of the index file; a file of another size was not written with this sidecar. */
  bytes: number;
  /** SHA-256 of the index file, hex: a sidecar is only ever used with the file it was written with. */
  checksum: string;
}

// hnswlib's file header: six size_t, an int, a u32, three size_t, a double and a size_t.
const HEADER_BYTES = 96;

/**
 * Writes an index file through `writeIndex` to `path` and its sidecar to `path + ".json"`, the sidecar holding
 * the index file's SHA-256 (`checksum`). Each goes to a temporary file of its own (`.<pid>.<random>.tmp`:
 * several processes may save the same index at once) and is renamed into place; the old sidecar is unlinked
 * before the index is replaced, so a crash in between leaves no sidecar (a rebuild) rather than a sidecar
 * describing another index. Saves that interleave can still pair one save's sidecar with another's index file:
 * `readVerified` refuses that pair by its checksum. Temporary files are removed when the save fails.
 */
export function writeIndexFiles(path: string, meta: AnnSaveMeta, shape: AnnShape, writeIndex: (file: string) => void): AnnSidecarMeta {
  const unique = `${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const tmp = `${path}.${unique}`;
  const json = `${path}.json`;
  const jsonTmp = `${json}.${unique}`;
  try {
    writeIndex(tmp);
    const bytes = fs.statSync(tmp).size;
    // hnswlib writes through an unchecked ofstream: a full disk truncates the file without an error.
    const minimum = HEADER_BYTES + shape.elements * (shape.dim * 4 + (2 * shape.M + 1) * 4 + 8 + 4);
    if (bytes < minimum) {
      throw new SpectronError("internal", `Writing the ANN index to ${tmp} stopped after ${bytes} of at least ${minimum} bytes. Check free disk space.`);
    }
    const fd = fs.openSync(tmp, "r");
    let checksum: string;
    try {
      checksum = fileChecksum(fd);
    } finally {
      fs.closeSync(fd);
    }
    const sidecar: AnnSidecarMeta = { ...meta, version: SIDECAR_VERSION, ...shape, bytes, checksum };
    fs.writeFileSync(jsonTmp, JSON.stringify(sidecar));
    fs.rmSync(json, { force: true });
    fs.renameSync(tmp, path);
    fs.renameSync(jsonTmp, json);
    return sidecar;
  } finally {
    for (const file of [tmp, jsonTmp]) {
      try {
        fs.rmSync(file, { force: true });
      } catch {
        // Left behind: a leftover temporary file is never read.
      }
    }
  }
}

/**
 * Runs `read` on the index file at `path` once its sidecar is known to describe that file (size, header,
 * SHA-256) and an index of `expected.dim` dimensions in cosine space; returns what `read` returns (never a
 * string), or why the files were refused. The index file must only be read once they agree: hnswlib reads a
 * wrong-dimension file without complaint and returns garbage. Files are only ever replaced by rename, never
 * written in place, so the file `read` reads is the one checked when its inode is still the one at `path`
 * (checked after `read`, the checked file held open meanwhile so that its inode number cannot be reused).
 * Throws only what the file system or `read` throws.
 */
export function readVerified<T>(path: string, expected: { dim: number }, read: (meta: AnnSidecarMeta) => T): T | string {
  if (!fs.existsSync(path) || !fs.existsSync(`${path}.json`)) return "index or sidecar file missing";
  const meta = parseSidecar(fs.readFileSync(`${path}.json`, "utf8"));
  if (!meta) return `sidecar is not a version ${SIDECAR_VERSION} ANN sidecar`;
  if (meta.space !== "cosine") return `space is ${meta.space}, expected cosine`;
  if (meta.dim !== expected.dim) return `dimension is ${meta.dim}, expected ${expected.dim}`;
  const fd = fs.openSync(path, "r");
  try {
    const stat = fs.fstatSync(fd);
    if (stat.size !== meta.bytes) return `index file has ${stat.size} bytes, sidecar says ${meta.bytes}`;
    const header = readHeader(fd);
    if (header.labelOffset - header.offsetData !== meta.dim * 4) {
      return `index file holds ${(header.labelOffset - header.offsetData) / 4}-d vectors, sidecar says ${meta.dim}`;
    }
    if (header.elements !== meta.elements || header.M !== meta.M) return "index file header disagrees with sidecar";
    if (fileChecksum(fd) !== meta.checksum) return "index file checksum disagrees with sidecar";
    const value = read(meta);
    if (fs.statSync(path).ino !== stat.ino) return "index file was replaced while loading";
    return value;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Removes the temporary files of saves of `path` (and its sidecar) by processes that no longer run: a
 * process killed while saving leaves a file as large as the index. Never throws.
 */
export function removeStaleTemporaries(path: string): void {
  try {
    const dir = nodePath.dirname(path);
    const base = nodePath.basename(path);
    for (const name of fs.readdirSync(dir)) {
      if (!name.startsWith(base)) continue;
      const match = /^(?:\.json)?\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(base.length));
      if (match && !processRuns(Number(match[1]))) fs.rmSync(nodePath.join(dir, name), { force: true });
    }
  } catch {
    // Best effort: a leftover temporary file is never read.
  }
}

function readHeader(fd: number): { elements: number; offsetData: number; labelOffset: number; M: number } {
  const buffer = Buffer.alloc(HEADER_BYTES);
  if (fs.readSync(fd, buffer, 0, HEADER_BYTES, 0) !== HEADER_BYTES) throw new Error("index file shorter than its header");
  return {
    elements: Number(buffer.readBigUInt64LE(16)),
    labelOffset: Number(buffer.readBigUInt64LE(32)),
    offsetData: Number(buffer.readBigUInt64LE(40)),
    M: Number(buffer.readBigUInt64LE(72)),
  };
}

function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** SHA-256 of a whole file, hex (~1.6 ms per MB here: a 100k-vector 384-d index, 170 MB, costs ~0.3 s). */
function fileChecksum(fd: number): string {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(4 << 20);
  for (let position = 0; ; ) {
    const read = fs.readSync(fd, buffer, 0, buffer.length, position);
    if (read === 0) break;
    hash.update(buffer.subarray(0, read));
    position += read;
  }
  return hash.digest("hex");
}

function parseSidecar(text: string): AnnSidecarMeta | null {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) return null;
  const meta = value as Record<string, unknown>;
  const ints = ["dim", "M", "efConstruction", "efSearch", "count", "capacity", "elements", "bytes", "lastSeq"];
  if (meta.version !== SIDECAR_VERSION || !ints.every((key) => Number.isSafeInteger(meta[key]))) return null;
  if (!Array.isArray(meta.deleted) || !meta.deleted.every((label) => Number.isInteger(label))) return null;
  if (typeof meta.checksum !== "string") return null;
  return meta as AnnSidecarMeta;
}
