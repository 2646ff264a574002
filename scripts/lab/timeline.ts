import type { Operation, Verdict } from "@lab/history";
import { words, type Lang } from "./i18n.ts";
import type { Recording, TimelineEntry } from "./lab.ts";

/** How the timeline marks a read: it showed every write it had to (fresh), missed one (stale), or showed one was lost. */
type Mark = "fresh" | "stale" | "lost";

/** The reads the checker named stale (or as missing a write), and those that show an acknowledged write lost, so the timeline can mark them. */
export function marksOf(verdict: Verdict): Map<Operation, Mark> {
  const marks = new Map<Operation, Mark>();
  for (const list of [verdict.staleReads, verdict.readYourWrites, verdict.monotonicReads]) {
    for (const anomaly of list) marks.set(anomaly.operations.at(-1)!, "stale");
  }
  for (const anomaly of verdict.lostWrites) marks.set(anomaly.operations.at(-1)!, "lost");
  return marks;
}

/** The mark of an entry that shows reads (the worst of its reads'), undefined for one that shows none. */
function markOf(entry: TimelineEntry, marks: Map<Operation, Mark>): Mark | undefined {
  const reads = entry.reads ?? (entry.read ? [entry.read] : []);
  if (reads.length === 0) return undefined;
  const found = reads.map((r) => marks.get(r) ?? "fresh");
  return found.includes("lost") ? "lost" : found.includes("stale") ? "stale" : "fresh";
}

/** The text of an entry in `lang`, with a read marked fresh, stale or lost. */
function cellText(entry: TimelineEntry, marks: Map<Operation, Mark>, lang: Lang): string {
  const text = typeof entry.text === "string" ? entry.text : entry.text[lang];
  const mark = markOf(entry, marks);
  return mark === undefined ? text : `${text}  ${mark === "fresh" ? "✓" : "✗"} ${words[mark][lang]}`;
}

/** Display width of a string in a terminal: CJK characters take two columns. */
function widthOf(text: string): number {
  let width = 0;
  for (const ch of text) width += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return width;
}
const pad = (text: string, width: number) => text + " ".repeat(Math.max(0, width - widthOf(text)));

/**
 * The timeline as a text table: a column per node and per client, a row per moment something
 * happened (several things at one moment share a row when their lanes differ).
 */
export function renderTimeline({ timeline, lanes, clients }: Recording, verdict: Verdict, lang: Lang): string {
  const columns = [...lanes, ...clients];
  const marks = marksOf(verdict);
  const rows: { at: number; cells: Map<string, string> }[] = [];
  for (const entry of timeline) {
    const last = rows.at(-1);
    const text = cellText(entry, marks, lang);
    if (last && last.at === entry.at && !last.cells.has(entry.lane)) last.cells.set(entry.lane, text);
    else rows.push({ at: entry.at, cells: new Map([[entry.lane, text]]) });
  }
  const timeHeader = `${words.time[lang]} (ms)`;
  const widths = columns.map((c) => Math.min(64, Math.max(widthOf(c), ...rows.map((r) => widthOf(r.cells.get(c) ?? "")))));
  const timeWidth = Math.max(widthOf(timeHeader), ...rows.map((r) => String(Math.round(r.at)).length));
  const clip = (text: string, width: number) => (widthOf(text) <= width ? text : `${[...text].slice(0, width - 1).join("")}…`);
  const line = (time: string, cells: string[]) => [" ".repeat(Math.max(0, timeWidth - widthOf(time))) + time, ...cells.map((c, i) => pad(clip(c, widths[i]!), widths[i]!))].join(" │ ");
  return [
    line(timeHeader, columns),
    ["─".repeat(timeWidth), ...widths.map((w) => "─".repeat(w))].join("─┼─"),
    ...rows.map((r) => line(String(Math.round(r.at)), columns.map((c) => r.cells.get(c) ?? ""))),
  ].join("\n");
}

const escape = (text: string) => text.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);

/** The same timeline as one self-contained HTML page (no scripts, no external files). */
export function renderTimelineHtml(recording: Recording, verdict: Verdict, lang: Lang, { title, summary }: { title: string; summary: string[] }): string {
  const { timeline, lanes, clients } = recording;
  const columns = [...lanes, ...clients];
  const marks = marksOf(verdict);
  const rows = timeline.map((entry) => {
    const mark = markOf(entry, marks) ?? (lanes.includes(entry.lane) ? "node" : "client");
    const cells = columns.map((c) => (c === entry.lane ? `<td class="${mark}">${escape(cellText(entry, marks, lang))}</td>` : "<td></td>"));
    return `<tr><th>${Math.round(entry.at)}</th>${cells.join("")}</tr>`;
  });
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<title>${escape(title)}</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
  table { border-collapse: collapse; }
  th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; font-family: ui-monospace, monospace; font-size: 14px; }
  thead th { background: #f6f8fa; position: sticky; top: 0; }
  tbody th { color: #57606a; text-align: right; }
  td.node { background: #eef6ff; }
  td.client { background: #f6f8fa; }
  td.fresh { background: #dafbe1; }
  td.stale { background: #ffebe9; font-weight: 600; }
  td.lost { background: #ffcecb; font-weight: 700; }
  li { margin: .2rem 0; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
<table>
<thead><tr><th>${escape(words.time[lang])} (ms)</th>${columns.map((c) => `<th>${escape(c)}</th>`).join("")}</tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
<ul>${summary.map((line) => `<li>${escape(line)}</li>`).join("")}</ul>
</body>
</html>
`;
}
