/**
 * `spectron/ai-sdk`: Spectron for the Vercel AI SDK (`ai` v6, an optional peer dependency of `spectron`).
 * Memory tools for an agent, and a middleware that gives any model a memory.
 */
export { memoryTools, type MemoryToolsOptions } from "./tools.js";
export { memoryMiddleware, type MemoryMiddleware, type MemoryMiddlewareOptions } from "./middleware.js";
export type { MemoryBinding } from "./memory-context.js";
