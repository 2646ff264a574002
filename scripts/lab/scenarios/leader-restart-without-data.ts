import type { Scenario } from "../lab.ts";

/** Log identity: a leader that restarts without its log starts a new history, and the follower follows it there. */
export const leaderRestartWithoutData: Scenario = {
  name: "leader-restart-without-data",
  title: { en: "The leader restarts without its data", ja: "リーダーがデータなしで再起動する" },
  story: {
    en: "A leader with no DATA_DIR (its log lives in memory) and a follower with no lag.\nYou create o-1, o-2 and o-3; the leader restarts; you create n-1. Then every node is read.",
    ja: "DATA_DIR なし（ログはメモリ上だけ）のリーダーと、遅延なしのフォロワー。\no-1・o-2・o-3 を作り、リーダーが再起動し、n-1 を作ります。最後に全ノードから読みます。",
  },
  question: {
    prompt: { en: "After the restart, what does the follower hold?", ja: "再起動のあと、フォロワーが持っているのは？" },
    choices: [
      { key: "a", text: { en: "o-1, o-2, o-3 and n-1", ja: "o-1, o-2, o-3 と n-1" } },
      { key: "b", text: { en: "only n-1", ja: "n-1 だけ" } },
      { key: "c", text: { en: "o-1, o-2, o-3 only: it refuses the new leader", ja: "o-1〜o-3 だけ（新しいリーダーを拒否する）" } },
    ],
    answer: "b",
  },
  cluster: { followers: [{ id: "follower", applyLagMs: 0 }] },
  async run(lab) {
    for (const id of ["o-1", "o-2", "o-3"]) await lab.write("you", "create", id);
    await lab.settle();
    lab.note("leader", "⟲ restarted without DATA_DIR: a new, empty log");
    await lab.cluster.leader.restart();
    await lab.write("you", "create", "n-1");
    await lab.finalReads(["o-1", "o-2", "o-3", "n-1"]);
  },
  explain: (verdict) => [
    {
      en: `Three acknowledged writes are gone from every node: ${verdict.lostWrites.length} reads found them lost.`,
      ja: `確認済みの3つの書き込みが全ノードから消えた: ${verdict.lostWrites.length} 回の読み取りで失われていた。`,
    },
    {
      en: "The restarted leader has a new log identity (logId); the follower is told LOG_ID_MISMATCH and copies its snapshot.",
      ja: "再起動したリーダーのログは別の識別子（logId）を持つ。フォロワーは LOG_ID_MISMATCH を受け、そのスナップショットを写す。",
    },
    {
      en: "A follower cannot tell 'deleted' from 'lost': only a leader that keeps its log (DATA_DIR) keeps the writes (see what-happens-when).",
      ja: "フォロワーには「削除された」と「失われた」の区別がつかない。書き込みを守れるのはログを保存するリーダー（DATA_DIR）だけ。",
    },
  ],
};
