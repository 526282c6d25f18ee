// The builder process of build-once.ts: `node --import tsx test/build-child.ts`.
import { buildHere } from "./build-once.js";

await buildHere();
