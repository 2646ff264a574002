import type { Lab, Scenario } from "../lab.ts";
import { dropLink, lostWritesOf, nameWrite, oldLeaderFollows, promoteMostAdvanced } from "./failover-steps.ts";

/**
 * Failover's steps, the same with and without SYNC_REPLICAS: the followers fall behind one after
 * the other, the leader takes two more writes and dies, the most advanced follower is promoted
 * and takes writes, and the old leader comes back from its DATA_DIR to follow it.
 */
async function failOver(lab: Lab): Promise<void> {
  await lab.write("you", "create", "o-1");
  await lab.write("you", "create", "o-2");
  await lab.settle();
  await dropLink(lab, 1); // follower-2 stops at o-2
  await lab.write("you", "create", "o-3");
  await lab.settle(); // o-3 reaches follower-1
  await dropLink(lab, 0); // follower-1 stops at o-3
  await lab.write("you", "confirm", "o-1");
  await lab.write("you", "create", "o-4");
  lab.note("leader", { en: "✖ dies (its log stays in DATA_DIR)", ja: "✖ 停止（ログは DATA_DIR に残る）" });
  await lab.cluster.leader.stop();

  const promoted = await promoteMostAdvanced(lab);
  await lab.write("you", "create", "n-1", promoted);
  await lab.read("you", promoted, "o-4");
  await lab.read("you", promoted, "o-1");

  lab.note("leader", { en: "⟲ back from its DATA_DIR: leads epoch 0", ja: "⟲ DATA_DIR から復帰: epoch 0 のリーダーのまま" });
  await lab.cluster.leader.restart();
  await oldLeaderFollows(lab, promoted);
  await lab.finalReads(["o-1", "o-3", "o-4", "n-1"]);
}

const story = (sync: boolean) => ({
  en: [
    `A leader${sync ? " with SYNC_REPLICAS=1 (a write waits until a follower has received it, at most 1 s)" : ", asynchronous,"} with its log on disk (DATA_DIR), and two followers.`,
    "You create o-1 and o-2; both followers get them. Then the followers fall behind (their links are dropped, as a",
    "stalled network would leave them): follower-2 after o-2, follower-1 after o-3. You confirm o-1 and create o-4; the",
    "leader dies. The most advanced follower is promoted; you move to it, create n-1, and read o-4 and o-1 there. The",
    "old leader comes back from its DATA_DIR and is made to follow the new one. Then every node is read.",
  ].join("\n"),
  ja: [
    `${sync ? "SYNC_REPLICAS=1 のリーダー（書き込みは、フォロワーが受け取るまで最大1秒待つ）" : "非同期のリーダー"}。ログはディスクに保存（DATA_DIR）。フォロワーは2台。`,
    "o-1 と o-2 を作ると、両方のフォロワーに届きます。そのあとフォロワーが遅れます（ネットワークが詰まったときの",
    "ようにリンクを遮断）: follower-2 は o-2 まで、follower-1 は o-3 まで。o-1 を確定し、o-4 を作ったところでリーダーが",
    "停止します。いちばん先まで受け取っていたフォロワーが昇格し、あなたはそちらに移って n-1 を作り、o-4 と o-1 を読みます。",
    "古いリーダーは DATA_DIR から戻り、新しいリーダーに従うよう指示されます。最後に全ノードから読みます。",
  ].join("\n"),
});

const cluster = { followers: [{ id: "follower-1" }, { id: "follower-2" }] };

/** Asynchronous failover: what the leader acknowledged but had not shipped dies with it, and the old leader drops it when it rejoins. */
export const failover: Scenario = {
  name: "failover",
  title: { en: "Failover: the leader dies before its followers have its last writes", ja: "フェイルオーバー: 最後の書き込みがフォロワーに届く前にリーダーが止まる" },
  story: story(false),
  question: {
    prompt: { en: "The old leader acknowledged o-4. Once it follows the new leader, where is o-4?", ja: "o-4 は古いリーダーが確認済み。古いリーダーが新しいリーダーに従ったあと、o-4 はどこにある？" },
    choices: [
      { key: "a", text: { en: "on every node: the old leader ships it to the new one", ja: "全ノード（古いリーダーが新しいリーダーに送る）" } },
      { key: "b", text: { en: "nowhere: the old leader drops it", ja: "どこにもない（古いリーダーが捨てる）" } },
      { key: "c", text: { en: "on the old leader only: it refuses to follow", ja: "古いリーダーだけ（従うのを拒む）" } },
    ],
    answer: "b",
  },
  leaderDataDir: true,
  cluster,
  run: failOver,
  explain: (verdict) => {
    const lost = lostWritesOf(verdict);
    return [
      {
        en: `Acknowledged, then lost: ${lost.map(nameWrite).join(" and ")}, the writes no follower had when the leader died (${verdict.lostWrites.length} reads missed them).`,
        ja: `確認済みなのに失われた: ${lost.map(nameWrite).join(" と ")}。リーダーが止まったとき、どのフォロワーも持っていなかった書き込みだ（${verdict.lostWrites.length} 回の読み取りで見つからない）。`,
      },
      {
        en: "The leader acknowledged them without waiting for a follower. follower-1 had received the most, so o-3 survived; its epoch 1 gives offset 3 to n-1.",
        ja: "リーダーはフォロワーを待たずに確認した（非同期）。いちばん多く受け取っていた follower-1 が昇格したので o-3 は残った。epoch 1 では offset 3 は n-1 になる。",
      },
      {
        en: "Back, the old leader learns that the new history never had its offsets 3 and 4, and drops them for good. With SYNC_REPLICAS=1 see pnpm lab failover-sync.",
        ja: "戻った古いリーダーは、自分の offset 3 と 4 が新しい履歴にないと知り、捨てる。もう戻らない。SYNC_REPLICAS=1 ならどうなるかは pnpm lab failover-sync で。",
      },
    ];
  },
};

/** The same failover with SYNC_REPLICAS=1: what no follower has is never acknowledged, so nothing acknowledged is lost. */
export const failoverSync: Scenario = {
  name: "failover-sync",
  title: { en: "Failover with SYNC_REPLICAS=1: no acknowledged write is lost", ja: "SYNC_REPLICAS=1 でのフェイルオーバー: 確認済みの書き込みは失われない" },
  story: story(true),
  question: {
    prompt: { en: "What does the history checker report as lost?", ja: "履歴チェッカーは、何が失われたと報告する？" },
    choices: [
      { key: "a", text: { en: "the confirm of o-1 and o-4, as without SYNC_REPLICAS", ja: "o-1 の確定と o-4（SYNC_REPLICAS なしと同じ）" } },
      { key: "b", text: { en: "nothing: those two were never acknowledged", ja: "何も（その2つは確認されていない）" } },
      { key: "c", text: { en: "o-3, which only follower-1 had", ja: "o-3（follower-1 しか持っていなかった）" } },
    ],
    answer: "b",
  },
  leaderDataDir: true,
  cluster: { ...cluster, sync: { replicas: 1, ack: "received", timeoutMs: 1000, onTimeout: "error" } },
  run: failOver,
  explain: (verdict) => [
    {
      en: `No acknowledged write was lost (${verdict.lostWrites.length}): each waited until a follower had received it; o-3 waited for follower-1, which was then promoted.`,
      ja: `確認済みの書き込みは1つも失われていない（${verdict.lostWrites.length} 件）。どれもフォロワーが受け取るまで待った。o-3 は follower-1 を待ち、その follower-1 が昇格した。`,
    },
    {
      en: "With both followers cut off, the confirm of o-1 and o-4 timed out (504): you were told they may not have happened. The old leader still dropped them.",
      ja: "フォロワーが2台とも切り離されていたので、o-1 の確定と o-4 はタイムアウトした（504）。成功したとは伝えていない。古いリーダーは戻ったときにやはり捨てた。",
    },
    {
      en: "A timed-out write is neither rolled back nor promised: retry it on the new leader. Without SYNC_REPLICAS the same two are acknowledged, then lost (pnpm lab failover).",
      ja: "タイムアウトした書き込みは、取り消されもせず、約束されてもいない。新しいリーダーにやり直そう。SYNC_REPLICAS なしでは、同じ2つが確認されたうえで失われる（pnpm lab failover）。",
    },
  ],
};
