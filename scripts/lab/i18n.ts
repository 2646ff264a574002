import type { Lang } from "@lab/service";

export { chooseLang, type Lang } from "@lab/service";

/** A sentence in each language. */
export type Text = Record<Lang, string>;

/** The words the runner itself prints, around each scenario's own. */
export const words = {
  scenarios: { en: "Scenarios (run one with: pnpm lab <name>):", ja: "シナリオ一覧（実行: pnpm lab <名前>）:" },
  unknown: { en: "No scenario named", ja: "そのような名前のシナリオはありません:" },
  predict: { en: "Your prediction (press a key):", ja: "予想してください（キーを1つ押す）:" },
  skipped: { en: "(--yes: no question asked)", ja: "（--yes: 質問は省略）" },
  running: { en: "Running it against real nodes on 127.0.0.1 ...", ja: "127.0.0.1 上の本物のノードで実行中 ..." },
  timeline: { en: "Timeline", ja: "タイムライン" },
  time: { en: "time", ja: "時刻" },
  checker: { en: "What the history checker found", ja: "履歴チェッカーの判定" },
  nothing: { en: "nothing: every read showed every write acknowledged before it", ja: "異常なし: どの読み取りも、それ以前に確認済みの書き込みをすべて反映していた" },
  staleReads: { en: "stale reads", ja: "古い読み取り (stale read)" },
  readYourWrites: { en: "read-your-writes violations", ja: "read-your-writes 違反" },
  monotonicReads: { en: "monotonic-read violations", ja: "単調読み取り (monotonic reads) 違反" },
  lostWrites: { en: "lost acknowledged writes", ja: "確認済みなのに失われた書き込み" },
  whatHappened: { en: "What happened, and why", ja: "何が起きたか、なぜか" },
  right: { en: "You predicted it.", ja: "予想どおり！" },
  wrong: { en: "Not what you predicted: look at the timeline again.", ja: "予想と違いました。タイムラインをもう一度見てみましょう。" },
  fresh: { en: "fresh", ja: "最新" },
  stale: { en: "stale", ja: "古い" },
  lost: { en: "lost", ja: "消失" },
  htmlWritten: { en: "Timeline written to", ja: "タイムラインを書き出しました:" },
} satisfies Record<string, Text>;
