import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["apps/*/src/**/*.test.ts", "packages/*/src/**/*.test.ts", "scripts/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    // Cluster tests open real loopback sockets; none of them waits on wall-clock time.
    testTimeout: 20_000,
    // Most test files wait on sockets and child processes rather than compute: two at a time keeps
    // both cores busy (vitest's default on a 2-core machine is one).
    maxWorkers: 2,
  },
});
