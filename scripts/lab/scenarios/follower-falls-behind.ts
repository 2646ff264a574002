import type { Scenario } from "../lab.ts";

/** Retention and snapshots: a follower further behind than the leader keeps catches up from a snapshot. */
export const followerFallsBehind: Scenario = {
  name: "follower-falls-behind",
  title: { en: "A follower falls too far behind", ja: "フォロワーが遅れすぎる" },
  story: {
    en: "A leader that keeps only its last 5 events (RETAIN_EVENTS=5) and a follower.\nThe follower stops; you create 10 orders; the follower comes back. Then every node is read.",
    ja: "直近5件のイベントしか保持しないリーダー（RETAIN_EVENTS=5）とフォロワー。\nフォロワーが止まっている間に注文を10件作り、フォロワーが戻ってきます。最後に全ノードから読みます。",
  },
  question: {
    prompt: { en: "When the follower comes back, what happens?", ja: "フォロワーが戻ってきたら、どうなる？" },
    choices: [
      { key: "a", text: { en: "it misses the orders the leader no longer keeps", ja: "リーダーが手放した分の注文を取りこぼす" } },
      { key: "b", text: { en: "it loads a snapshot and holds all 11 orders", ja: "スナップショットを読み込み、11件すべてを持つ" } },
      { key: "c", text: { en: "it stops with an error", ja: "エラーで止まる" } },
    ],
    answer: "b",
  },
  cluster: { retainEvents: 5, followers: [{ id: "follower", applyLagMs: 0 }] },
  async run(lab) {
    await lab.write("you", "create", "f-0");
    await lab.settle();
    lab.note(0, "■ stopped");
    await lab.cluster.followers[0]!.stop();
    for (let i = 1; i <= 10; i++) await lab.write("you", "create", `f-${i}`);
    lab.note(0, "▶ started again");
    await lab.cluster.followers[0]!.start();
    await lab.finalReads(["f-0", "f-5", "f-10"]);
  },
  explain: (verdict) => [
    {
      en: `Nothing was lost (${verdict.lostWrites.length} lost writes): the follower resynced from the leader's snapshot.`,
      ja: `失われた書き込みはない（${verdict.lostWrites.length} 件）。フォロワーはリーダーのスナップショットから再同期した。`,
    },
    {
      en: "It asked for offset 1; the leader keeps only offsets 6 to 10, so it answered OFFSET_OUT_OF_RANGE, never a silent gap.",
      ja: "フォロワーはオフセット1を求めたが、リーダーは6〜10しか持たないので OFFSET_OUT_OF_RANGE と答えた。黙って抜けを作ることはない。",
    },
    {
      en: "A snapshot is the leader's whole state at one offset; the follower replaces its own and follows the log from there.",
      ja: "スナップショットはあるオフセット時点のリーダーの全状態。フォロワーは自分の状態をそれで置き換え、そこからログを追う。",
    },
  ],
};
