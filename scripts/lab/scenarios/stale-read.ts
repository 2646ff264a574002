import type { Scenario } from "../lab.ts";

/** The chapter: write to the leader, read a lagging follower, see the past. */
export const staleRead: Scenario = {
  name: "stale-read",
  title: { en: "A stale read (the chapter)", ja: "古い読み取り（この章の実験）" },
  story: {
    en: "A leader and one follower that applies each event 3 s after it arrives (APPLY_LAG_MS=3000), as in the chapter.\nYou create order o-1 on the leader and read it from the follower at once; 3.5 s later you confirm it,\nread the follower at once, then the leader, and the follower again 3.5 s later.",
    ja: "リーダー1台と、届いたイベントを3秒後に反映するフォロワー1台（APPLY_LAG_MS=3000、章と同じ設定）。\nリーダーで注文 o-1 を作ってすぐフォロワーから読み、3.5秒後に確定（confirm）して、\nすぐフォロワー、次にリーダー、さらに3.5秒後にもう一度フォロワーから読みます。",
  },
  question: {
    prompt: { en: "Right after the confirm, what does the follower answer for o-1?", ja: "確定の直後、フォロワーは o-1 について何と答える？" },
    choices: [
      { key: "a", text: { en: "CONFIRMED", ja: "CONFIRMED（確定済み）" } },
      { key: "b", text: { en: "PENDING", ja: "PENDING（処理中）" } },
      { key: "c", text: { en: "404 not found", ja: "404（見つからない）" } },
    ],
    answer: "b",
  },
  cluster: { followers: [{ id: "follower", applyLagMs: 3000 }] },
  async run(lab) {
    await lab.write("you", "create", "o-1");
    await lab.read("you", 0, "o-1");
    await lab.wait(3500);
    await lab.read("you", 0, "o-1");
    await lab.write("you", "confirm", "o-1");
    await lab.read("you", 0, "o-1");
    await lab.read("you", "leader", "o-1");
    await lab.wait(3500);
    await lab.read("you", 0, "o-1");
  },
  explain: (verdict) => [
    {
      en: `The follower answered with the past right after writes the leader had acknowledged: ${verdict.staleReads.length} stale reads (404, then PENDING).`,
      ja: `リーダーが確認済みの書き込みの直後、フォロワーは過去の状態を返した: 古い読み取り ${verdict.staleReads.length} 回（404、そして PENDING）。`,
    },
    {
      en: "It applies each event APPLY_LAG_MS after receiving it, and until then serves the state from before it.",
      ja: "フォロワーは受け取ったイベントを APPLY_LAG_MS 後に反映し、それまでは反映前の状態を返す。",
    },
    {
      en: "The leader decides every write, so it is never stale: read from it right after your own write (exercise B).",
      ja: "書き込みを決めるのはリーダーなので、リーダーからの読み取りは古くならない。自分の書き込み直後はリーダーから読もう（課題B）。",
    },
  ],
};
