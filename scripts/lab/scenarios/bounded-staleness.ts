import type { Scenario } from "../lab.ts";

/** maxStalenessMs: a follower answers only what it can prove about its own freshness. */
export const boundedStaleness: Scenario = {
  name: "bounded-staleness",
  title: { en: "Bounded staleness", ja: "古さの上限（bounded staleness）" },
  story: {
    en: "Two followers: 'fast' (no lag) and 'slow' (3 s behind). You create b-1, wait until both have it, and confirm it.\n1.5 s later a reader asks each follower for b-1 with ?maxStalenessMs=1000, and slow once more without a bound.",
    ja: "フォロワーが2台: 'fast'（遅延なし）と 'slow'（3秒遅れ）。b-1 を作り、両方に届いてから確定します。\n1.5秒後、読み手が各フォロワーに ?maxStalenessMs=1000 付きで b-1 を尋ね、slow には上限なしでもう一度尋ねます。",
  },
  question: {
    prompt: { en: "What does 'slow' answer to maxStalenessMs=1000?", ja: "'slow' は maxStalenessMs=1000 に何と答える？" },
    choices: [
      { key: "a", text: { en: "PENDING", ja: "PENDING" } },
      { key: "b", text: { en: "CONFIRMED", ja: "CONFIRMED" } },
      { key: "c", text: { en: "503 TOO_STALE: it cannot promise 1 s", ja: "503 TOO_STALE（1秒以内を約束できない）" } },
    ],
    answer: "c",
  },
  cluster: { followers: [{ id: "fast", applyLagMs: 0 }, { id: "slow", applyLagMs: 3000 }] },
  async run(lab) {
    await lab.write("writer", "create", "b-1");
    await lab.settle();
    await lab.write("writer", "confirm", "b-1");
    await lab.wait(1500);
    await lab.read("reader", 0, "b-1", { maxStalenessMs: 1000 });
    await lab.read("reader", 1, "b-1", { maxStalenessMs: 1000 });
    await lab.read("reader", 1, "b-1");
  },
  explain: (verdict) => [
    {
      en: `'slow' refused the bounded read (503 TOO_STALE) and served a stale one without a bound (${verdict.staleReads.length} stale read).`,
      ja: `'slow' は上限付きの読み取りを断り（503 TOO_STALE）、上限なしでは古い状態を返した（古い読み取り ${verdict.staleReads.length} 回）。`,
    },
    {
      en: "A follower knows, on its own clock, when it last heard its upstream's head and whether it has applied everything before it.",
      ja: "フォロワーは自分の時計だけで、上流の head を最後に聞いた時刻と、それ以前をすべて反映したかを知っている。",
    },
    {
      en: "So it answers only when it can prove the bound; otherwise the reader goes to a fresher follower or to the leader.",
      ja: "だから上限を証明できるときだけ答える。できなければ、読み手はもっと新しいフォロワーかリーダーへ行く。",
    },
  ],
};
