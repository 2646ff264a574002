import type { Scenario } from "../lab.ts";

/** Exercise B: your own write, missing from the follower; and the offset token that fixes it. */
export const readYourWrites: Scenario = {
  name: "read-your-writes",
  title: { en: "Read your own writes (exercise B)", ja: "自分の書き込みを読む（課題B）" },
  story: {
    en: "A follower 1.5 s behind. Client 'naive' creates r-1 and reads it from the follower at once.\nClient 'token' creates r-2 and asks the follower for ?minOffset=<its write's offset>&timeoutMs=5000.",
    ja: "1.5秒遅れのフォロワー。クライアント 'naive' は r-1 を作ってすぐフォロワーから読みます。\nクライアント 'token' は r-2 を作り、フォロワーに ?minOffset=<書き込みのオフセット>&timeoutMs=5000 で尋ねます。",
  },
  question: {
    prompt: { en: "What does client 'token' get?", ja: "クライアント 'token' が受け取るのは？" },
    choices: [
      { key: "a", text: { en: "404, like client 'naive'", ja: "'naive' と同じく 404" } },
      { key: "b", text: { en: "it waits, then gets r-2 PENDING", ja: "少し待たされてから r-2 PENDING" } },
      { key: "c", text: { en: "504 at once", ja: "すぐに 504" } },
    ],
    answer: "b",
  },
  cluster: { followers: [{ id: "follower", applyLagMs: 1500 }] },
  async run(lab) {
    await lab.write("naive", "create", "r-1");
    await lab.read("naive", 0, "r-1");
    const written = await lab.write("token", "create", "r-2");
    await lab.read("token", 0, "r-2", { minOffset: written.body.event.offset, timeoutMs: 5000 });
  },
  explain: (verdict) => [
    {
      en: `Client 'naive' missed its own write (${verdict.readYourWrites.length} read-your-writes violation); client 'token' never did.`,
      ja: `'naive' は自分の書き込みを読めなかった（read-your-writes 違反 ${verdict.readYourWrites.length} 回）。'token' は一度もない。`,
    },
    {
      en: "Every write reply carries its offset; the follower holds a read with ?minOffset= until it has applied that offset.",
      ja: "書き込みの応答にはオフセットが入っている。?minOffset= 付きの読み取りは、そのオフセットを反映するまでフォロワーが待たせる。",
    },
    {
      en: "The price is a wait (about the follower's lag) instead of a wrong answer; past timeoutMs it says 504 and you read the leader.",
      ja: "代償は誤った答えではなく待ち時間（ほぼフォロワーの遅延）。timeoutMs を過ぎれば 504 が返り、リーダーから読めばよい。",
    },
  ],
};
