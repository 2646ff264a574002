import type { Scenario } from "../lab.ts";

/** Two followers, two moments in the past: a reader hopping between them goes back in time. */
export const monotonicReads: Scenario = {
  name: "monotonic-reads",
  title: { en: "Monotonic reads", ja: "単調読み取り（monotonic reads）" },
  story: {
    en: "Two followers: 'fast' (no lag) and 'slow' (3 s behind). You create m-1 and confirm it once both have it.\nReader 'hopper' reads m-1 from fast, then from slow. Reader 'careful' does the same, but carries the\nhighest offset it has seen and asks slow for it (?minOffset=).",
    ja: "フォロワーが2台: 'fast'（遅延なし）と 'slow'（3秒遅れ）。m-1 を作り、両方に届いてから確定します。\n読み手 'hopper' は fast、次に slow から m-1 を読みます。読み手 'careful' も同じ順に読みますが、\nそれまでに見た最大のオフセットを覚えておき、slow にそれを求めます（?minOffset=）。",
  },
  question: {
    prompt: { en: "What does 'hopper' see?", ja: "'hopper' が見るのは？" },
    choices: [
      { key: "a", text: { en: "CONFIRMED twice", ja: "2回とも CONFIRMED" } },
      { key: "b", text: { en: "CONFIRMED, then PENDING: back in time", ja: "CONFIRMED のあと PENDING（時間が巻き戻る）" } },
      { key: "c", text: { en: "PENDING, then CONFIRMED", ja: "PENDING のあと CONFIRMED" } },
    ],
    answer: "b",
  },
  cluster: { followers: [{ id: "fast", applyLagMs: 0 }, { id: "slow", applyLagMs: 3000 }] },
  async run(lab) {
    await lab.write("writer", "create", "m-1");
    await lab.settle();
    await lab.write("writer", "confirm", "m-1");
    await lab.read("hopper", 0, "m-1");
    await lab.read("hopper", 1, "m-1");
    const seen = await lab.read("careful", 0, "m-1");
    await lab.read("careful", 1, "m-1", { minOffset: seen.body.appliedOffset, timeoutMs: 5000 });
  },
  explain: (verdict) => [
    {
      en: `'hopper' went back in time (${verdict.monotonicReads.length} monotonic-read violation); 'careful' never did, it waited instead.`,
      ja: `'hopper' は時間が巻き戻った（単調読み取り違反 ${verdict.monotonicReads.length} 回）。'careful' は巻き戻らず、代わりに待った。`,
    },
    {
      en: "Each follower is the leader's state at a different moment in the past; hopping between them mixes those moments.",
      ja: "フォロワーはそれぞれ、過去の別々の時点のリーダーの状態。渡り歩くとその時点が入り混じる。",
    },
    {
      en: "Carry the highest offset you have seen (every reply's appliedOffset), or stick to one follower (docs/many-followers.md).",
      ja: "見た中で最大のオフセット（応答の appliedOffset）を持ち歩くか、1台のフォロワーに固定しよう（docs/many-followers.md）。",
    },
  ],
};
