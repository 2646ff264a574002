import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkHistory, countAnomalies, severalEpochs, type Anomaly, type Operation, type Verdict } from "@lab/history";
import { chooseLang, words, type Lang } from "./lab/i18n.ts";
import { runAnyScenario, scenarios } from "./lab/scenarios.ts";
import { renderTimeline, renderTimelineHtml } from "./lab/timeline.ts";

/**
 * `pnpm lab` lists the narrated scenarios; `pnpm lab <name>` runs one: it says what will happen,
 * asks for a prediction (one key; `--yes` skips the question), runs it against real nodes on
 * loopback, prints the timeline, what the history checker found, and what happened and why.
 * `--html FILE` also writes the timeline as one self-contained page. LAB_LANG=ja (or a Japanese
 * system locale) speaks Japanese. The Raft scenarios (election, runaway-server) run on a group of
 * apps/raft nodes instead of a leader and its followers.
 *
 *   pnpm lab
 *   pnpm lab stale-read
 *   pnpm lab monotonic-reads --yes --html timeline.html
 */
const { values, positionals } = parseArgs({ allowPositionals: true, options: { yes: { type: "boolean", default: false }, html: { type: "string" } } });
const lang = chooseLang();
const name = positionals[0];

function list(): void {
  console.log(words.scenarios[lang]);
  for (const s of scenarios) console.log(`  ${s.name.padEnd(28)} ${s.title[lang]}`);
}

if (!name) {
  list();
  process.exit(0);
}
const scenario = scenarios.find((s) => s.name === name);
if (!scenario) {
  console.error(`${words.unknown[lang]} ${JSON.stringify(name)}.\n`);
  list();
  process.exit(1);
}

console.log(`\n${scenario.title[lang]}\n${"=".repeat(scenario.title[lang].length * (lang === "ja" ? 2 : 1))}\n\n${scenario.story[lang]}\n`);
console.log(`${scenario.question.prompt[lang]}`);
for (const c of scenario.question.choices) console.log(`  [${c.key}] ${c.text[lang]}`);
const predicted = values.yes ? undefined : await askKey(scenario.question.choices.map((c) => c.key));
if (values.yes) console.log(words.skipped[lang]);
console.log(`\n${words.running[lang]}\n`);

const recording = await runAnyScenario(scenario);
const verdict = checkHistory(recording.history);
console.log(`${words.timeline[lang]}\n\n${renderTimeline(recording, verdict, lang)}\n`);
const found = summarize(verdict, lang, severalEpochs(recording.history));
console.log(`${words.checker[lang]}:\n${found.map((l) => `  ${l}`).join("\n")}\n`);
const why = scenario.explain(verdict, recording.facts).map((t) => t[lang]);
console.log(`${words.whatHappened[lang]}:\n${why.map((l) => `  ${l}`).join("\n")}`);
if (predicted !== undefined) console.log(`\n${predicted === scenario.question.answer ? words.right[lang] : words.wrong[lang]}`);
if (values.html) {
  writeFileSync(values.html, renderTimelineHtml(recording, verdict, lang, { title: `${scenario.title[lang]} (pnpm lab ${scenario.name})`, summary: [...found, ...why] }));
  console.log(`\n${words.htmlWritten[lang]} ${values.html}`);
}

/** The checker's verdict in a few lines: counts, and the first anomaly of each kind in words (naming epochs where writes of several leaderships share offsets). */
function summarize(v: Verdict, l: Lang, severalEpochs: boolean): string[] {
  if (countAnomalies(v) === 0) return [words.nothing[l]];
  const kinds = [
    [words.staleReads[l], v.staleReads],
    [words.readYourWrites[l], v.readYourWrites],
    [words.monotonicReads[l], v.monotonicReads],
    [words.lostWrites[l], v.lostWrites],
  ] as const;
  return kinds.filter(([, list]) => list.length > 0).map(([label, list]) => `${label}: ${list.length} (${describeAnomaly(list[0]!, l, severalEpochs)}${list.length > 1 ? ", …" : ""})`);
}

/** One anomaly in words: the checker's own sentence in English, the same facts in Japanese. */
function describeAnomaly(anomaly: Anomaly, l: Lang, severalEpochs: boolean): string {
  if (l === "en") return anomaly.message;
  const [first, read] = anomaly.operations as [Operation, Operation];
  const epoch = (op: Operation) => (severalEpochs && op.kind === "write" ? `・epoch ${op.epoch ?? 0}` : "");
  const state = (op: Operation) => `${op.key} ${op.value ?? "なし（404）"}${op.kind === "write" || op.value ? `（offset ${op.offset}${epoch(op)}）` : ""}`;
  switch (anomaly.kind) {
    case "monotonic-reads":
      return `${read.client} は ${first.node} で ${state(first)} を読んだ後、${read.node} で ${state(read)} を読んだ: 時間が巻き戻った`;
    case "read-your-writes":
      return `${read.client} は自分の書き込み ${state(first)} が確認された後に、${read.node} で ${state(read)} を読んだ`;
    case "lost-write":
      return `確認済みの ${state(first)} が、後の読み取り（${read.node}）で見つからない: 失われた`;
    case "stale-read":
      return `${read.client} は ${read.node} で ${state(read)} を読んだが、${state(first)} は読み取り開始前に確認済みだった`;
  }
}

/** Reads one key among `keys`: a single keypress on a terminal, the first letter of a line otherwise. */
async function askKey(keys: string[]): Promise<string> {
  const { stdin } = process;
  if (!stdin.isTTY) {
    const line = await new Promise<string>((resolve) => {
      let data = "";
      stdin.setEncoding("utf8");
      stdin.on("data", (chunk) => {
        data += chunk;
        if (data.includes("\n")) resolve(data);
      });
      stdin.on("end", () => resolve(data));
    });
    stdin.pause();
    const key = line.trim().toLowerCase().slice(0, 1);
    return keys.includes(key) ? key : "";
  }
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  try {
    for (;;) {
      const key = await new Promise<string>((resolve) => stdin.once("data", (d) => resolve(String(d).toLowerCase())));
      if (key === "\u0003") process.exit(130); // Ctrl+C
      if (keys.includes(key)) {
        console.log(`> ${key}`);
        return key;
      }
    }
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

