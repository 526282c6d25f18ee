import type { ProviderConfigs } from "../models/provider-config.js";
import type { ProvidersInput } from "./schemas.js";

/** `providers` as the caller gave them (a key, or a provider's connection) → the models' provider configs. */
export function toProviderConfigs(input: ProvidersInput | undefined): ProviderConfigs {
  const out: ProviderConfigs = {};
  for (const [name, v] of Object.entries(input ?? {})) {
    if (v === undefined) continue;
    if (typeof v === "string") out[name] = { apiKey: v };
    else {
      const named = v as { apiKey?: string; baseURL?: string; dimensions?: Record<string, number>; headers?: Record<string, string> };
      out[name] = {
        ...(named.apiKey !== undefined ? { apiKey: named.apiKey } : {}),
        ...(named.baseURL ? { baseURL: named.baseURL } : {}),
        ...(named.dimensions ? { dimensions: { ...named.dimensions } } : {}),
        ...(named.headers ? { headers: { ...named.headers } } : {}),
      };
    }
  }
  return out;
}
