import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { SpectronError } from "../errors.js";

/**
 * Provider keys at rest: AES-256-GCM under a key derived from the host's `secretKey`. Without a secretKey
 * keys are never persisted (held in process memory only).
 */
function deriveKey(secret: string | Uint8Array): Buffer {
  return createHash("sha256").update("spectron/providers/v1").update(secret).digest();
}

export function seal(secret: string | Uint8Array, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", deriveKey(secret), iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(".");
}

export function unseal(secret: string | Uint8Array, sealed: string): string {
  const [version, iv, tag, body] = sealed.split(".");
  if (version !== "v1" || !iv || !tag || !body) throw new SpectronError("internal", "Stored provider keys are in an unknown format.");
  try {
    const decipher = createDecipheriv("aes-256-gcm", deriveKey(secret), Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]).toString("utf8");
  } catch (cause) {
    throw new SpectronError(
      "validation",
      "Stored provider keys could not be decrypted with the given `secretKey`: it differs from the one they were saved under. Pass the original `secretKey`, or set the keys again with `memory.config.providers()`.",
      { cause: new Error("AES-GCM authentication failed") },
    );
  }
}
