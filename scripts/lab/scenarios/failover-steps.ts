import type { Operation, Verdict } from "@lab/history";
import { send, type Reply } from "../../cluster.ts";
import type { Lab } from "../lab.ts";

/**
 * Steps the failover scenarios share: cutting a follower off from its upstream, promoting the
 * most advanced follower as a failover tool would, and naming the writes the checker found lost.
 */

/** Throws, saying what was being done, unless the node answered 200. */
function expectOk(reply: Reply, what: string): void {
  if (reply.status !== 200) throw new Error(`${what}: got ${reply.status} ${JSON.stringify(reply.body)}, want 200`);
}

/** Drops follower `index`'s link to its upstream (`POST /admin/pause {"mode":"drop"}`): from now on it receives nothing. */
export async function dropLink(lab: Lab, index: number): Promise<void> {
  expectOk(await send("POST", `${lab.cluster.followers[index]!.url}/admin/pause`, { mode: "drop" }), `dropping ${lab.lane(index)}'s link`);
}

/** The old leader is made to follow the promoted follower (`POST /admin/follow`). */
export async function oldLeaderFollows(lab: Lab, promoted: number): Promise<void> {
  expectOk(await lab.cluster.leader.follow(lab.cluster.followers[promoted]!.url), `the old leader following ${lab.lane(promoted)}`);
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
  expectOk(await followers[chosen]!.promote(), `promoting ${lab.lane(chosen)}`);
  for (const [i, f] of followers.entries()) if (i !== chosen) expectOk(await f.follow(followers[chosen]!.url), `pointing ${lab.lane(i)} at ${lab.lane(chosen)}`);
  return chosen;
}

/** The acknowledged writes the checker found lost, each once, in offset order. */
export function lostWritesOf(verdict: Verdict): Operation[] {
  return [...new Set(verdict.lostWrites.map((a) => a.operations[0]!))].sort((a, b) => a.offset! - b.offset!);
}

/** A write as the explanations name it: `o-4 PENDING (#4)`. */
export const nameWrite = (w: Operation) => `${w.key} ${w.value} (#${w.offset})`;
