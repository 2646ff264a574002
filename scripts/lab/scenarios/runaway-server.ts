import type { Facts, RaftLab, RaftScenario } from "../raft-lab.ts";

/**
 * The chapter's runaway server, the same steps with and without pre-vote: n3 is cut off from the
 * others for 1.4 s while the leader goes on committing with n2, then joins them again.
 */
async function runAway(lab: RaftLab): Promise<Facts> {
  const leader = await lab.elect();
  const termOf = (id: string) => lab.term(id);
  await lab.write("you", "create", "o-1");
  await lab.disconnect("n3");
  await lab.write("you", "create", "o-2");
  await lab.write("you", "confirm", "o-1");
  await lab.wait(1_400); // alone, n3 reaches its election timeout again and again
  const runawayTerm = termOf("n3");
  const leaderTerm = termOf(leader);
  const back = lab.group.lines.length;
  await lab.reconnect("n3");
  await lab.wait(300); // a few heartbeats: whatever n3's return does, it does now
  const after = await lab.elect();
  await lab.write("you", "create", "o-3", after);
  await lab.read("you", after, "o-1", "linearizable");
  await lab.finalReads(["o-1", "o-2", "o-3"]);
  const since = lab.group.lines.slice(back);
  // What deposed the leader, if anything: the first message of n3's it heard, of n3's newer term.
  const deposedBy = since.map((l) => new RegExp(`^\\[${leader}\\] term \\d+: leader steps down: n3 sent (\\w+)`).exec(l)?.[1]).find(Boolean) ?? "";
  const preVotesRefused = since.filter((l) => l.includes("refused n3 a pre-vote")).length;
  const votesRefused = since.filter((l) => l.includes("refused to vote for n3: its log")).length;
  return { leader, leaderTerm, runawayTerm, after, afterTerm: termOf(after), n3Log: lab.group.node("n3").raft.status().lastLogIndex, deposedBy, preVotesRefused, votesRefused };
}

const story = (preVote: boolean) => ({
  en: [
    `A Raft group of three, n1, n2 and n3; election timeouts 150-300 ms; pre-vote ${preVote ? "on (the default)" : "off (PRE_VOTE=false)"}. n1 leads. You create o-1.`,
    "Then n3 is cut off from the others (POST /admin/disconnect: its Raft messages are dropped both ways) for 1.4 s. n1",
    "and n2 are a majority: they commit o-2 and the confirm of o-1 without it. n3 hears no leader, and its election timer",
    "runs out again and again. Then n3 is joined again. Watch its lane, and n1's: their terms are in brackets.",
  ].join("\n"),
  ja: [
    `3台の Raft グループ（n1、n2、n3）。選挙タイムアウトは150〜300ミリ秒、事前投票（pre-vote）は${preVote ? "あり（既定）" : "なし（PRE_VOTE=false）"}。リーダーは n1。o-1 を作ります。`,
    "そのあと n3 を1.4秒間ほかのノードから切り離します（POST /admin/disconnect: Raft のメッセージを双方向とも捨てる）。n1 と n2 で",
    "過半数なので、o-2 と o-1 の確定は n3 抜きでコミットされます。n3 にはリーダーの声が届かず、選挙タイマーが何度も切れます。",
    "最後に n3 をつなぎ直します。n3 と n1 のレーン（[ ] 内は term）に注目してください。",
  ].join("\n"),
});

const question = {
  prompt: { en: "When n3 is joined again, what happens to n1, the leader?", ja: "n3 がつなぎ直されたとき、リーダーの n1 はどうなる？" },
  choices: [
    { key: "a", text: { en: "nothing: n1 stays leader of the same term, and n3 follows it", ja: "何も起きない（n1 は同じ term のリーダーのまま。n3 はそれに従う）" } },
    { key: "b", text: { en: "it steps down; there is a new election, which n3 cannot win", ja: "リーダーを降りる。選挙がやり直しになるが、n3 は勝てない" } },
    { key: "c", text: { en: "it steps down, and n3 becomes the leader", ja: "リーダーを降り、n3 がリーダーになる" } },
  ],
};

/** Without pre-vote: n3's term races ahead while it is alone, and its return deposes a healthy leader. */
export const runawayServer: RaftScenario = {
  name: "runaway-server",
  title: { en: "The runaway server: a node cut off comes back with a higher term (no pre-vote)", ja: "暴走するサーバー: 切り離されたノードが大きな term を持って戻る（事前投票なし）" },
  story: story(false),
  question: { ...question, answer: "b" },
  group: { nodes: 3, preVote: false },
  run: runAway,
  explain: (verdict, facts) => [
    {
      en: `Alone, n3 stood for election at every timeout and reached term ${facts.runawayTerm}; ${facts.leader} still led term ${facts.leaderTerm}. Back, it made ${facts.leader} step down; ${facts.after === facts.leader ? `after another election ${facts.leader} leads again, in term ${facts.afterTerm}` : `${facts.after} now leads term ${facts.afterTerm}`}.`,
      ja: `孤立した n3 はタイムアウトのたびに立候補し、term ${facts.runawayTerm} まで進んだ。${facts.leader} は term ${facts.leaderTerm} のリーダーのままだった。戻った n3 のせいで ${facts.leader} はリーダーを降り、${facts.after === facts.leader ? `選挙をやり直して、term ${facts.afterTerm} でまた ${facts.leader} がリーダーになった` : `いまは ${facts.after} が term ${facts.afterTerm} のリーダーだ`}。`,
    },
    {
      en: `A higher term in any message makes its receiver a follower (Figure 2): n3's ${facts.deposedBy === "RequestVote" ? "request for votes" : "reply to a heartbeat"} deposed the leader. But n3 could not win: its log lacked o-2, ${Number(facts.votesRefused) > 0 ? "so the others refused it their votes" : "and votes go only to a log at least as up-to-date as the voter's"} (§5.4.1).`,
      ja: `どのメッセージでも、より大きな term を受け取ったノードはフォロワーになる（論文の Figure 2）。だから n3 の${facts.deposedBy === "RequestVote" ? "投票依頼" : "ハートビートへの返事"}がリーダーを退かせた。だが n3 は勝てない: ログに o-2 がないので、${Number(facts.votesRefused) > 0 ? "ほかのノードは票を入れなかった" : "票は入らない。票は、自分と同じかそれ以上に新しいログにしか入らないからだ"}（§5.4.1）。`,
    },
    {
      en: `Nothing was lost (${verdict.lostWrites.length}), but writes waited for a new election that nothing called for. Pre-vote stops it: pnpm lab runaway-server-prevote.`,
      ja: `失われた書き込みはない（${verdict.lostWrites.length} 件）。それでも、必要のない選挙が終わるまで書き込みは待たされた。これを防ぐのが事前投票だ: pnpm lab runaway-server-prevote。`,
    },
  ],
};

/** With pre-vote: n3 asks first, nobody says yes, its term never moves, and its return changes nothing. */
export const runawayServerPreVote: RaftScenario = {
  name: "runaway-server-prevote",
  title: { en: "The runaway server with pre-vote: the node cut off comes back, and the leader stays", ja: "事前投票ありの暴走サーバー: 切り離されたノードが戻っても、リーダーはそのまま" },
  story: story(true),
  question: { ...question, answer: "a" },
  group: { nodes: 3, preVote: true },
  run: runAway,
  explain: (verdict, facts) => [
    {
      en: `n3 came back in term ${facts.runawayTerm}, the term it left in: ${facts.after} still leads term ${facts.afterTerm}, and n3 follows it with all ${facts.n3Log} entries.`,
      ja: `n3 は切り離されたときと同じ term ${facts.runawayTerm} のまま戻った。${facts.after} は term ${facts.afterTerm} のリーダーのままで、n3 はそれに従い、${facts.n3Log} 件のエントリをすべて受け取った。`,
    },
    {
      en: `At each timeout n3 only asked whether it could win (a pre-vote, thesis §9.6), which changes no term. Nobody answered while it was cut off; ${Number(facts.preVotesRefused) > 0 ? "back, it was refused: the others still hear from a leader." : "back, the leader's heartbeat reached it before it asked again. Had it asked, the others would have said no: they still hear from a leader."}`,
      ja: `タイムアウトのたびに n3 がしたのは「勝てるか」を尋ねること（事前投票、論文 §9.6）だけで、term は変わらない。切り離されている間は誰も答えなかった。${Number(facts.preVotesRefused) > 0 ? "戻ってからは断られた: ほかのノードにはリーダーの声がまだ届いているからだ。" : "戻ると、次に尋ねるより先にリーダーのハートビートが届いた。尋ねていても断られていた: ほかのノードにはリーダーの声がまだ届いているからだ。"}`,
    },
    {
      en: `No election, no wait, nothing lost (${verdict.lostWrites.length}). Without pre-vote, the same steps depose the leader: pnpm lab runaway-server.`,
      ja: `選挙もなく、待ちもなく、失われた書き込みもない（${verdict.lostWrites.length} 件）。事前投票がなければ、同じ手順でリーダーが退く: pnpm lab runaway-server。`,
    },
  ],
};
