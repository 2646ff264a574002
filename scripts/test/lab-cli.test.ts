import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { scenarios } from "../lab/scenarios.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tsx = pathToFileURL(createRequire(`${root}scripts/package.json`).resolve("tsx")).href;

/** Runs `pnpm lab` as a learner would (node with tsx, in the repository), with `env`. */
function lab(args: string[], env: Record<string, string>) {
  const run = spawnSync(process.execPath, ["--import", tsx, "scripts/lab.ts", ...args], { cwd: root, env: { ...process.env, LC_ALL: "", LANG: "", LC_MESSAGES: "", ...env }, encoding: "utf8" });
  return { status: run.status, out: run.stdout, err: run.stderr };
}

describe("pnpm lab, the command", () => {
  it("lists every scenario with its title, in English or, with LAB_LANG=ja, in Japanese", () => {
    const en = lab([], { LAB_LANG: "en" });
    expect(en.status).toBe(0);
    for (const s of scenarios) expect(en.out).toContain(`  ${s.name.padEnd(28)} ${s.title.en}`);
    const ja = lab([], { LAB_LANG: "ja" });
    for (const s of scenarios) expect(ja.out).toContain(`${s.name.padEnd(28)} ${s.title.ja}`);
  });

  it("says so, lists them and exits 1 for a scenario it does not have", () => {
    const run = lab(["no-such-scenario"], { LAB_LANG: "en" });
    expect(run.status).toBe(1);
    expect(run.err).toContain('"no-such-scenario"');
    expect(run.out).toContain(scenarios[0]!.name);
  });
});
