import type { Scenario } from "../lab.ts";

/** Exercise C's story: what a synchronous write waits for, what it buys, and what a timeout means. */
export const syncVsAsync: Scenario = {
  name: "sync-vs-async",
  title: { en: "Synchronous against asynchronous replication (exercise C)", ja: "同期レプリケーションと非同期レプリケーション（課題C）" },
  story: {
    en: "A leader with SYNC_REPLICAS=1 SYNC_ACK=applied SYNC_TIMEOUT_MS=2000: a write is acknowledged only once the follower\nhas applied it. The follower applies each event 1 s after it arrives. You create s-1 and read it from the follower\nat once. Then the follower stops, you create s-2, and read it from the leader; the follower comes back.",
    ja: "SYNC_REPLICAS=1 SYNC_ACK=applied SYNC_TIMEOUT_MS=2000 のリーダー: フォロワーが反映するまで書き込みを確認しません。\nフォロワーは届いたイベントを1秒後に反映します。s-1 を作ってすぐフォロワーから読みます。\n次にフォロワーが止まり、s-2 を作ってリーダーから読みます。最後にフォロワーが戻ってきます。",
  },
  question: {
    prompt: { en: "Right after s-1 is acknowledged, what does the follower answer?", ja: "s-1 が確認された直後、フォロワーは何と答える？" },
    choices: [
      { key: "a", text: { en: "404: it is 1 s behind", ja: "404（1秒遅れているから）" } },
      { key: "b", text: { en: "s-1 PENDING: the write waited until it was applied there", ja: "s-1 PENDING（反映されるまで書き込みが待ったから）" } },
      { key: "c", text: { en: "503: the leader refuses to answer", ja: "503（リーダーが答えない）" } },
    ],
    answer: "b",
  },
  cluster: { sync: { replicas: 1, ack: "applied", timeoutMs: 2000, onTimeout: "error" }, followers: [{ id: "follower", applyLagMs: 1000 }] },
  async run(lab) {
    await lab.write("you", "create", "s-1");
    await lab.read("you", 0, "s-1");
    lab.note(0, "■ stopped");
    await lab.cluster.followers[0]!.stop();
    await lab.write("you", "create", "s-2");
    await lab.read("you", "leader", "s-2");
    lab.note(0, "▶ started again");
    await lab.cluster.followers[0]!.start();
    await lab.finalReads(["s-1", "s-2"]);
  },
  explain: (verdict) => [
    {
      en: `No read was stale (${verdict.staleReads.length}): s-1 took the follower's 1 s lag to be acknowledged, and was there when read.`,
      ja: `古い読み取りはない（${verdict.staleReads.length} 回）。s-1 の確認にはフォロワーの遅延1秒がかかり、読んだときにはそこにあった。`,
    },
    {
      en: "With the follower down, s-2 timed out: 504 REPLICATION_TIMEOUT after 2 s. It was not rolled back: the leader has it, and so does the follower once back.",
      ja: "フォロワーが止まっている間、s-2 は2秒で 504 REPLICATION_TIMEOUT になった。取り消されてはいない: リーダーは持っており、戻ったフォロワーも持つ。",
    },
    {
      en: "Synchronous replication trades latency (and availability when followers are down) for reads that are never stale; see exercise C.",
      ja: "同期レプリケーションは、レイテンシ（とフォロワー停止時の可用性）と引き換えに、古くならない読み取りを得る。課題Cも見てみよう。",
    },
  ],
};
