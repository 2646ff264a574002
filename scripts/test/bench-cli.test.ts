import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tsx = pathToFileURL(createRequire(`${root}scripts/package.json`).resolve("tsx")).href;

describe("pnpm bench --only", () => {
  it("refuses a part it does not have, naming the parts, before it starts anything", () => {
    const run = spawnSync(process.execPath, ["--import", tsx, "scripts/bench.ts", "--only", "sync,nope"], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("no part named nope; the parts are core, dashboard, sync, raft");
    expect(run.stdout).not.toContain("Benchmark");
  });
});
