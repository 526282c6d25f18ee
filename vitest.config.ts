import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    pool: "forks",
    // Two files at a time, even on two cores: most of a file's time is spent waiting on child processes,
    // servers and timers. Vitest's default (cores - 1) runs one file at a time here.
    maxWorkers: 2,
    // A worker keeps the modules it loaded from one file to the next instead of loading src/ again for each
    // (about half of a small file's time). Test files share no state: each opens its own instances, servers
    // and temporary files, and none mocks a module or fakes timers.
    isolate: false,
  },
});
