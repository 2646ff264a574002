import type { RaftScenario } from "../raft-lab.ts";

/** Raft's answer to failover: the leader of three dies, the other two elect one of themselves, and nothing acknowledged is lost. */
export const election: RaftScenario = {
  name: "election",
  title: { en: "Election: the leader of a Raft group dies, and the others choose a new one", ja: "リーダー選挙: Raft グループのリーダーが止まり、残りのノードが新しいリーダーを選ぶ" },
  story: {
    en: [
      "A Raft group of three nodes, n1, n2 and n3, each with its state on disk (DATA_DIR); election timeouts 150-300 ms,",
      "pre-vote on. n1 times out first and is elected. You create o-1 and o-2 and confirm o-1: each write is acknowledged",
      "only once a majority (2 of 3) has it. A reader reads linearizably from the leader. Then n1 crashes. Nobody steps in:",
      "watch the lanes of n2 and n3, their terms in brackets. The new leader takes o-3; n1 comes back from its DATA_DIR.",
    ].join("\n"),
    ja: [
      "3台の Raft グループ（n1、n2、n3）。どのノードも状態をディスクに保存します（DATA_DIR）。選挙タイムアウトは150〜300ミリ秒、",
      "事前投票（pre-vote）あり。最初にタイムアウトした n1 がリーダーに選ばれます。o-1 と o-2 を作り、o-1 を確定します。",
      "書き込みは過半数（3台中2台）に届いてはじめて確認されます。読み手はリーダーから線形化可能な読み取りをします。そこで n1 が",
      "クラッシュ。人は何もしません。n2 と n3 のレーン（[ ] 内は term）に注目。新しいリーダーが o-3 を受け、n1 は DATA_DIR から戻ります。",
    ].join("\n"),
  },
  question: {
    prompt: { en: "n1 acknowledged o-2 just before it crashed. Once a new leader is elected, where is o-2?", ja: "n1 はクラッシュの直前に o-2 を確認した。新しいリーダーが選ばれたあと、o-2 はどこにある？" },
    choices: [
      { key: "a", text: { en: "on the new leader, and on every node once n1 is back", ja: "新しいリーダーにある。n1 が戻れば全ノードにある" } },
      { key: "b", text: { en: "nowhere: it was lost with n1, as in an asynchronous failover", ja: "どこにもない（非同期のフェイルオーバーと同じく n1 と一緒に失われた）" } },
      { key: "c", text: { en: "only on n1, until it comes back and ships it", ja: "n1 だけ。戻ってきた n1 が送るまで" } },
    ],
    answer: "a",
  },
  group: { nodes: 3, dataDir: true },
  async run(lab) {
    const first = await lab.elect();
    const firstTerm = lab.term(first);
    await lab.write("you", "create", "o-1");
    await lab.read("reader", first, "o-1", "linearizable");
    await lab.write("you", "create", "o-2");
    await lab.write("you", "confirm", "o-1");
    await lab.crash(first);
    const crashedAt = lab.now();
    const second = await lab.elect();
    const electionMs = Math.round(lab.now() - crashedAt);
    const secondTerm = lab.term(second);
    lab.note("reader", { en: `(${second} leads term ${secondTerm}, ${electionMs} ms after the crash)`, ja: `（クラッシュから ${electionMs} ミリ秒後、${second} が term ${secondTerm} のリーダーに）` });
    await lab.write("you", "create", "o-3", second);
    for (const id of ["o-1", "o-2", "o-3"]) await lab.read("reader", second, id, "linearizable");
    await lab.restart(first);
    await lab.finalReads(["o-1", "o-2", "o-3"]);
    return { first, firstTerm, second, secondTerm, electionMs, back: lab.group.node(first).raft.status().leaderId ?? "nobody" };
  },
  explain: (verdict, facts) => [
    {
      en: `Nothing lost (${verdict.lostWrites.length} lost, ${verdict.staleReads.length} stale): o-1 and o-2, acknowledged by ${facts.first} in term ${facts.firstTerm}, are on every node. ${facts.second} was elected for term ${facts.secondTerm} ${facts.electionMs} ms after the crash.`,
      ja: `失われた書き込みはない（消失 ${verdict.lostWrites.length} 件、古い読み取り ${verdict.staleReads.length} 件）。term ${facts.firstTerm} に ${facts.first} が確認した o-1 と o-2 は全ノードにある。クラッシュの ${facts.electionMs} ミリ秒後、${facts.second} が term ${facts.secondTerm} のリーダーに選ばれた。`,
    },
    {
      en: "A write was acknowledged only once a majority had it, and any majority that elects the next leader includes a node that has it: votes go only to a log at least as up-to-date as the voter's (the election restriction).",
      ja: "書き込みは過半数に届いてから確認される。次のリーダーを選ぶ過半数には、その書き込みを持つノードが必ず含まれる。そして票は、自分のログと同じかそれ以上に新しいログの候補者にしか入らない（選挙制約）。",
    },
    {
      en: `Nobody chose the leader, and the old one cannot take writes beside it: back in term ${facts.firstTerm}, ${facts.first} learns of term ${facts.secondTerm} and follows ${facts.back}. Compare pnpm lab failover, where acknowledged writes are lost.`,
      ja: `リーダーを選んだのは人ではない。古いリーダーが並んで書き込みを受けることもない: term ${facts.firstTerm} のまま戻った ${facts.first} は term ${facts.secondTerm} を知って ${facts.back} に従う。確認済みの書き込みが失われる pnpm lab failover と比べてみよう。`,
    },
  ],
};
