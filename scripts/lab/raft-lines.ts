import type { Text } from "./i18n.ts";

/** Why a vote or a pre-vote was refused, in a few words, from the voter's reason. */
function refusal(reason: string): Text {
  if (reason.startsWith("its log")) return { en: "its log is behind", ja: "ログが遅れている" };
  if (reason.startsWith("we still hear")) return { en: "the leader is alive", ja: "リーダーは生きている" };
  if (reason.startsWith("already voted")) return { en: `already ${reason.replace("already ", "").replace(/ in term \d+$/, "")}`, ja: `${/for (\S+)/.exec(reason)?.[1] ?? "?"} に投票済み` };
  return { en: reason, ja: reason };
}

/**
 * What one of a Raft node's log lines shows on its lane of the timeline, if anything: the
 * elections (pre-votes asked, standing, winning), the votes given and refused, a new leader
 * followed, a step-down, and the node cut off or joined again. Every line of a node says its
 * term (`term 3: ...`), and so does its lane. Peers found unreachable, config and the like stay
 * off the timeline.
 */
export function raftLaneTextOf(line: string): Text | undefined {
  if (line.startsWith("disconnected (POST /admin/disconnect)")) return { en: "✕ cut off from the others", ja: "✕ 他のノードから切り離された" };
  if (line.startsWith("reconnected (POST /admin/reconnect)")) return { en: "▶ back in touch", ja: "▶ 再びつながった" };
  const said = /^term (\d+): (.*)$/.exec(line);
  if (!said) return undefined;
  const [, term, what] = said as unknown as [string, string, string];
  const t = (en: string, ja: string): Text => ({ en: `[${term}] ${en}`, ja: `[${term}] ${ja}` });

  const preVotes = /^election timeout: asking for pre-votes for term (\d+)/.exec(what);
  if (preVotes) return t(`⏱ timeout: may I stand for term ${preVotes[1]}? (pre-vote)`, `⏱ タイムアウト: term ${preVotes[1]} に立候補してよいか（事前投票）`);
  if (what.startsWith("standing for election")) return t(`✋ stands for election in term ${term}`, `✋ term ${term} に立候補`);
  const won = /^won the election with votes from (.*) \(of (\d+)\)/.exec(what);
  if (won) return t(`★ leader (votes: ${won[1]})`, `★ リーダーに当選（票: ${won[1]}）`);
  const voted = /^voted for (\S+):/.exec(what);
  if (voted) return t(`☑ votes for ${voted[1]}`, `☑ ${voted[1]} に投票`);
  const notVoted = /^refused to vote for (\S+): (.*)$/.exec(what);
  if (notVoted) {
    const why = refusal(notVoted[2]!);
    return t(`☒ no vote for ${notVoted[1]}: ${why.en}`, `☒ ${notVoted[1]} に投票せず: ${why.ja}`);
  }
  const preGranted = /^granted (\S+) a pre-vote for term (\d+)/.exec(what);
  if (preGranted) return t(`☑ pre-vote for ${preGranted[1]} (term ${preGranted[2]})`, `☑ ${preGranted[1]} に事前投票（term ${preGranted[2]}）`);
  const preRefused = /^refused (\S+) a pre-vote for term (\d+): (.*)$/.exec(what);
  if (preRefused) {
    const why = refusal(preRefused[3]!);
    return t(`☒ no pre-vote for ${preRefused[1]}: ${why.en}`, `☒ ${preRefused[1]} に事前投票せず: ${why.ja}`);
  }
  const following = /^following leader (\S+)/.exec(what);
  if (following) return t(`↪ follows ${following[1]}`, `↪ ${following[1]} に従う`);
  const newer = /^(leader|candidate|pre-candidate) steps down: (\S+) sent (\w+) in term (\d+)/.exec(what);
  if (newer) return t(`↓ ${newer[1]} steps down: ${newer[2]} is in term ${newer[4]}`, `↓ ${newer[1]} を降りる: ${newer[2]} は term ${newer[4]}`);
  const leads = /^(candidate|pre-candidate) steps down: (\S+) leads term/.exec(what);
  if (leads) return t(`↓ ${leads[1]} steps down: ${leads[2]} leads`, `↓ ${leads[1]} を降りる: ${leads[2]} がリーダー`);
  const quorum = /^leader steps down: heard from only (\d+) of (\d+)/.exec(what);
  if (quorum) return t(`↓ steps down: hears only ${quorum[1]} of ${quorum[2]}`, `↓ リーダーを降りる: ${quorum[2]} 台中 ${quorum[1]} 台しか応答しない`);
  return undefined;
}
