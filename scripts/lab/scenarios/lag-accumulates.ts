import type { Scenario } from "../lab.ts";

/** Exercise A: events wait for the one before them, so lag adds up. */
export const lagAccumulates: Scenario = {
  name: "lag-accumulates",
  title: { en: "Lag accumulates (exercise A)", ja: "遅延は積み上がる（課題A）" },
  story: {
    en: "A follower with APPLY_LAG_MS=400. You create five orders one right after another,\nthen read all five from the follower 400 ms, 1.2 s and 2 s later.",
    ja: "APPLY_LAG_MS=400 のフォロワー。注文を5つ立て続けに作り、\n400ミリ秒後・1.2秒後・2秒後に、5つともフォロワーから読みます。",
  },
  question: {
    prompt: { en: "When does the fifth order show on the follower?", ja: "5つ目の注文がフォロワーに見えるのはいつ？" },
    choices: [
      { key: "a", text: { en: "after 400 ms, like the first", ja: "1つ目と同じく400ミリ秒後" } },
      { key: "b", text: { en: "after 2 s: each waits for the one before", ja: "2秒後: それぞれが前のイベントを待つから" } },
      { key: "c", text: { en: "only once no more writes come", ja: "書き込みが止まってから" } },
    ],
    answer: "b",
  },
  cluster: { followers: [{ id: "follower", applyLagMs: 400 }] },
  async run(lab) {
    const ids = ["a-1", "a-2", "a-3", "a-4", "a-5"];
    for (const id of ids) await lab.write("writer", "create", id);
    for (const wait of [400, 800, 800]) {
      await lab.wait(wait);
      for (const id of ids) await lab.read("reader", 0, id);
    }
  },
  explain: (verdict) => [
    {
      en: `Each read of an order not yet applied was stale: ${verdict.staleReads.length} of them; the fifth showed only after 2 s.`,
      ja: `まだ反映されていない注文の読み取りはすべて古かった: ${verdict.staleReads.length} 回。5つ目が見えたのは2秒後。`,
    },
    {
      en: "The follower applies events strictly in order, each APPLY_LAG_MS after the previous one fell due.",
      ja: "フォロワーはイベントを必ず順番に、前のイベントの反映予定から APPLY_LAG_MS ずつ遅れて反映する。",
    },
    {
      en: "So when writes come faster than the follower applies them, its lag grows with every write (exercise A's table).",
      ja: "だから反映より速く書き込みが来ると、書き込みのたびに遅延が積み上がる（課題Aの表）。",
    },
  ],
};
