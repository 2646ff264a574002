import type { Text } from "./i18n.ts";

/** `OrderConfirmed` -> `confirmed`, as the lanes name events. */
const happened = (type: string) => type.replace(/^Order/, "").toLowerCase();

/**
 * What one of a node's log lines shows on its lane of the timeline, if anything: an event it
 * applied, a resync, its link cut or opened, a promotion, a new upstream (a leader stepping down
 * is demoted), a suffix dropped because the new upstream's history never had it. The rest of what
 * a node logs (outages retried, config) stays off the timeline. The leader's appends are not
 * here: the runner places them where each write's lane needs them.
 */
export function laneTextOf(line: string): string | Text | undefined {
  const applied = /^applied offset=(\d+) type=(\w+) orderId=(\S+)/.exec(line);
  if (applied) return `▸ #${applied[1]} ${applied[3]} ${happened(applied[2]!)}`;
  const burst = /^applied offset=(\d+)\.\.(\d+) \((\d+) events/.exec(line);
  if (burst) return `▸ #${burst[1]}..#${burst[2]} (${burst[3]} events)`;
  if (line.startsWith("resync")) {
    const loaded = /loaded the (\w+)'s snapshot .* at offset (\d+)/.exec(line);
    return `⟲ resync: ${loaded ? `loaded the ${loaded[1]}'s snapshot at offset ${loaded[2]}` : line}`;
  }

  const cut = /^link to \S+ (held|dropped) through \/admin\/pause/.exec(line);
  if (cut) return cut[1] === "held" ? { en: "⏸ link held", ja: "⏸ リンク保留" } : { en: "✕ link dropped", ja: "✕ リンク遮断" };
  if (/^link to \S+ open again/.test(line)) return { en: "▶ link open again", ja: "▶ リンク再開" };

  const promoted = /^promoted \(POST \/admin\/promote\): .*leading epoch (\d+) from offset (\d+)/.exec(line);
  if (promoted) return { en: `★ promoted: leads epoch ${promoted[1]} from #${promoted[2]}`, ja: `★ 昇格: #${promoted[2]} から epoch ${promoted[1]} のリーダー` };
  const following = /^following (\S+) at \S+ \(POST \/admin\/follow\), (no longer leading|a new upstream)/.exec(line);
  if (following) {
    const [, upstream, how] = following as unknown as [string, string, string];
    return how === "no longer leading" ? { en: `↓ demoted: follows ${upstream}`, ja: `↓ 降格: ${upstream} に従う` } : { en: `↪ follows ${upstream}`, ja: `↪ ${upstream} に従う` };
  }
  const dropped = /^the \w+'s history never had .*: dropped \d+ events? this follower had received \((.*)\)$/.exec(line);
  if (dropped) {
    const events = dropped[1]!.split(", ").map((e) => e.split(" ") as [string, string, string]);
    const what = events.map(([offset, type, id]) => `#${offset} ${id} ${happened(type)}`).join(", ");
    return { en: `✂ dropped ${what}`, ja: `✂ 破棄: ${what}` };
  }
  return undefined;
}
