import type { Scenario } from "../lab.ts";
import { dropLink, lostWritesOf, nameWrite, oldLeaderFollows, promoteMostAdvanced } from "./failover-steps.ts";

/** Split brain: a leader cut off from its followers only keeps taking writes while a follower is promoted beside it. */
export const splitBrain: Scenario = {
  name: "split-brain",
  title: { en: "Split brain: two leaders take writes", ja: "スプリットブレイン: 2台のリーダーが書き込みを受ける" },
  story: {
    en: [
      "An asynchronous leader and two followers. Client a creates o-1 and o-2; both followers get them. Then the network",
      "splits: the followers can no longer reach the leader (their links are dropped), but clients still can. follower-1 is",
      "promoted and follower-2 follows it. Client a, which nobody told, goes on writing to the old leader (a-1, a-2);",
      "client b writes to follower-1 (b-1, b-2). Then the old leader is made to follow follower-1, and every node is read.",
    ].join("\n"),
    ja: [
      "非同期のリーダーとフォロワー2台。クライアント a が o-1 と o-2 を作り、両方のフォロワーに届きます。そこでネットワークが",
      "分断されます: フォロワーからリーダーには届かなくなります（リンクを遮断）が、クライアントからは届きます。follower-1 が",
      "昇格し、follower-2 はそれに従います。誰からも知らされていないクライアント a は古いリーダーに書き続け（a-1、a-2）、",
      "クライアント b は follower-1 に書きます（b-1、b-2）。最後に古いリーダーを follower-1 に従わせ、全ノードから読みます。",
    ].join("\n"),
  },
  question: {
    prompt: { en: "Once the old leader follows follower-1, what becomes of a-1 and a-2?", ja: "古いリーダーが follower-1 に従ったあと、a-1 と a-2 はどうなる？" },
    choices: [
      { key: "a", text: { en: "they join follower-1's log: nothing is lost", ja: "follower-1 のログに合流する（何も失われない）" } },
      { key: "b", text: { en: "they are dropped: acknowledged, and lost", ja: "捨てられる（確認済みなのに失われる）" } },
      { key: "c", text: { en: "b-1 and b-2 are dropped instead: the first leader wins", ja: "代わりに b-1 と b-2 が捨てられる（先のリーダーが勝つ）" } },
    ],
    answer: "b",
  },
  cluster: { followers: [{ id: "follower-1" }, { id: "follower-2" }] },
  async run(lab) {
    await lab.write("a", "create", "o-1");
    await lab.write("a", "create", "o-2");
    await lab.settle();
    lab.note("leader", { en: "⚡ partition: its followers cannot reach it; clients can", ja: "⚡ 分断: フォロワーからは届かない。クライアントからは届く" });
    await dropLink(lab, 0);
    await dropLink(lab, 1);
    const promoted = await promoteMostAdvanced(lab);

    await lab.write("a", "create", "a-1");
    await lab.write("b", "create", "b-1", promoted);
    await lab.write("a", "create", "a-2");
    await lab.write("b", "create", "b-2", promoted);
    await lab.read("a", "leader", "a-2");
    await lab.read("b", promoted, "b-2");

    await oldLeaderFollows(lab, promoted);
    await lab.finalReads(["o-1", "a-1", "a-2", "b-1", "b-2"]);
  },
  explain: (verdict) => {
    const lost = lostWritesOf(verdict);
    return [
      {
        en: `Two leaders gave the same offsets to different writes. Lost: ${lost.map(nameWrite).join(", ")}, all the old leader acknowledged after the split (${verdict.lostWrites.length} reads missed them).`,
        ja: `2台のリーダーが、同じ offset を別々の書き込みに割り当てた。失われたのは ${lost.map(nameWrite).join("、")}。分断のあと古いリーダーが確認した書き込みすべてだ（${verdict.lostWrites.length} 回の読み取りで見つからない）。`,
      },
      {
        en: "Nothing could tell the old leader of epoch 1 across the partition, so it was never fenced (421 NOT_LEADER): it kept acknowledging writes.",
        ja: "分断の向こうから epoch 1 を知らせる手段がなく、古いリーダーはフェンシング（421 NOT_LEADER）されないまま、書き込みを確認し続けた。",
      },
      {
        en: "Made to follow, it took the new history and dropped its own. Systems that must not lose writes make a cut-off leader stop by itself (leases, a quorum).",
        ja: "従わされた古いリーダーは新しい履歴を受け入れ、自分の分を捨てた。書き込みを失えないシステムは、孤立したリーダーが自ら止まる仕組み（リース、クォーラム）を持つ。",
      },
    ];
  },
};
