import type { Operation, Verdict } from "@lab/history";
import { send } from "../../cluster.ts";
import type { Lab } from "../lab.ts";

/**
 * Steps the failover scenarios share: cutting a follower off from its upstream, promoting the
 * most advanced follower as a failover tool would, and naming the writes the checker found lost.
 */

/** Drops follower `index`'s link to its upstream (`POST /admin/pause {"mode":"drop"}`): from now on it receives nothing. */
export async function dropLink(lab: Lab, index: number): Promise<void> {
  const reply = await send("POST", `${lab.cluster.followers[index]!.url}/admin/pause`, { mode: "drop" });
  if (reply.status !== 200) throw new Error(`dropping ${lab.lane(index)}'s link: got ${reply.status} ${JSON.stringify(reply.body)}, want 200`);
}

/**
 * Promotes the follower that has received the most (the one a failover tool picks: it has every
 * write any follower has; the first of equals) and points every other follower at it. Returns
 * its index.
 */
export async function promoteMostAdvanced(lab: Lab): Promise<number> {
  const { followers } = lab.cluster;
  const received = followers.map((f) => f.node.status().nextFrom);
  const chosen = received.indexOf(Math.max(...received));
  const promoted = await followers[chosen]!.promote();
  if (promoted.status !== 200) throw new Error(`promoting ${lab.lane(chosen)}: got ${promoted.status} ${JSON.stringify(promoted.body)}, want 200`);
  for (const [i, f] of followers.entries()) {
    if (i === chosen) continue;
    const followed = await f.follow(followers[chosen]!.url);
    if (followed.status !== 200) throw new Error(`pointing ${lab.lane(i)} at ${lab.lane(chosen)}: got ${followed.status} ${JSON.stringify(followed.body)}, want 200`);
  }
  return chosen;
}

/** The acknowledged writes the checker found lost, each once, in offset order. */
export function lostWritesOf(verdict: Verdict): Operation[] {
  return [...new Set(verdict.lostWrites.map((a) => a.operations[0]!))].sort((a, b) => a.offset! - b.offset!);
}

/** A write as the explanations name it: `o-4 PENDING (#4)`. */
export const nameWrite = (w: Operation) => `${w.key} ${w.value} (#${w.offset})`;
