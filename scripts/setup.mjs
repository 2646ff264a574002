// Installs the workspace's dependencies with pnpm 10, whether or not pnpm is on this machine, so
// that `npm run dev` / `npm test` (or `pnpm dev` / `pnpm test`) work on a fresh clone with only
// Node.js and npm. Plain JavaScript on purpose: it runs before anything (tsx, TypeScript) is installed.
import { spawnSync } from "node:child_process";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`This lab needs Node.js 20.19 or newer (20, 22 or 24 LTS); this is ${process.version}.`);
  process.exit(1);
}

const isWindows = process.platform === "win32";

/** The command that runs pnpm 10 here: the pnpm running this script, one on PATH, or one fetched by npx. */
function findPnpm() {
  const execPath = process.env.npm_execpath ?? "";
  if (/pnpm/i.test(execPath)) return /\.c?js$/.test(execPath) ? [process.execPath, execPath] : [execPath];
  const probe = spawnSync("pnpm", ["--version"], { shell: isWindows, encoding: "utf8" });
  if (probe.status === 0 && probe.stdout.trim().startsWith("10.")) return ["pnpm"];
  console.log("pnpm 10 is not installed here; using it through npx (npm i -g pnpm@10 installs it for good).");
  return ["npx", "--yes", "pnpm@10"];
}

const [command, ...args] = findPnpm();
const result = spawnSync(command, [...args, "install"], { stdio: "inherit", shell: isWindows && !command.endsWith("node.exe") });
if (result.status !== 0) {
  console.error(`Installing the dependencies failed (${[command, ...args, "install"].join(" ")}).`);
  process.exit(result.status ?? 1);
}
