import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { readFollowerConfig } from "../apps/worker/src/config.ts";
import { writeLeaderLog } from "./bench/log-file.ts";
import { runServer, type RunningProcess } from "./processes.ts";
import { startRaftProcesses, type RaftProcesses } from "./raft-processes.ts";
import { until } from "./test/until.ts";

/**
 * `pnpm bench`: the lab's speed, measured black-box on loopback with real processes, long-polling
 * and the chapter's 300 ms polling side by side, and written to docs/benchmarks.md.
 * `pnpm bench --smoke` runs every measurement at a tiny size and writes nothing (CI runs it to
 * prove the benchmark works; its numbers mean nothing).
 *
 * The machine is shared and noisy: compare the columns of one run as ratios, not runs with each other.
 */
const { values } = parseArgs({ options: { smoke: { type: "boolean", default: false }, only: { type: "string" } } });
const smoke = values.smoke;
const size = smoke
  ? { samples: 20, pollingSamples: 4, hopSamples: 20, windowMs: 700, rounds: 1, loadedMs: 700, backlog: 2_000, tailSmall: 1_000, tailLarge: 10_000, tailReads: 20, failovers: 1 }
  : { samples: 500, pollingSamples: 60, hopSamples: 500, windowMs: 1_000, rounds: 20, loadedMs: 5_000, backlog: 100_000, tailSmall: 10_000, tailLarge: 1_000_000, tailReads: 200, failovers: 7 };
const CLIENTS = 16;
/** The longer BATCH_WAIT_MS one setup of eight followers runs with, next to the default. */
const BATCHED_WAIT_MS = 200;
/** How long an open page settles before a window with it open starts: its first state, and the dashboard's first rounds. */
const PAGE_SETTLE_MS = 300;
/**
 * How long the same load runs, uncounted, before every measured window: a process that sat idle
 * while the others were measured starts cold, and the one that sat idlest (the leader with no
 * follower, whose windows nothing else touches in between) would come out slowest.
 */
const WARM_UP_MS = smoke ? 50 : 200;
/** How long the dashboard's idle measure leaves the cluster without writes. */
const DASHBOARD_IDLE_MS = smoke ? 1000 : 5000;
/** The followers run with the default BATCH_WAIT_MS and LONG_POLL_MS; the docs name them. */
const { batchWaitMs: BATCH_WAIT_MS, longPollMs: LONG_POLL_MS } = readFollowerConfig({});

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const apiDir = here("../apps/api");
const dashboardDir = here("../apps/dashboard");
const workerDir = here("../apps/worker");
const scriptsDir = here(".");
const running: RunningProcess[] = [];
const temporary: string[] = [];
const agent = new Agent({ connections: CLIENTS * 2, keepAliveTimeout: 30_000 });
let nextId = 0;

async function start(cwd: string, env: Record<string, string>, role: string, script?: string) {
  const proc = runServer(cwd, { HOST: "127.0.0.1", PORT: "0", DATA_DIR: "", ...env }, script);
  running.push(proc);
  const [, url] = await proc.waitForLine(new RegExp(`\\[${role}\\] listening on (http://\\S+)`), 180_000);
  proc.discardOutput(); // the servers log every event; splitting those lines here would slow the clients
  return { proc, url: url! };
}
const startLeader = (env: Record<string, string> = {}) => start(apiDir, env, "leader");
/** A follower's environment in every setup: no lag, the chapter's poll interval, long-polling or not. */
const followerEnv = (leaderUrl: string, longPoll: boolean) => ({ LEADER_URL: leaderUrl, APPLY_LAG_MS: "0", POLL_INTERVAL_MS: "300", LONG_POLL_MS: longPoll ? String(LONG_POLL_MS) : "0" });
const startFollower = (leaderUrl: string, longPoll: boolean, env: Record<string, string> = {}) => start(workerDir, { ...followerEnv(leaderUrl, longPoll), ...env }, "follower");
/** `count` followers of `leaderUrl` in one process (bench/follower-group.ts), long-polling: one process, a URL each. */
async function startFollowerGroup(leaderUrl: string, count: number, env: Record<string, string> = {}) {
  const proc = runServer(scriptsDir, { HOST: "127.0.0.1", DATA_DIR: "", ...followerEnv(leaderUrl, true), FOLLOWERS: String(count), ...env }, "bench/follower-group.ts");
  running.push(proc);
  const [, urls] = await proc.waitForLine(/\[followers\] listening on (.+)$/, 180_000);
  proc.discardOutput();
  return { proc, urls: urls!.split(" ") };
}
async function stopAll() {
  await Promise.all(running.splice(0).map((p) => p.kill()));
}

async function json(method: "GET" | "POST", url: string, body?: unknown) {
  const res = await request(url, {
    method,
    dispatcher: agent,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as any };
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const median = (values: number[]) => quantile(values, 0.5);

/** One write to the leader; resolves with the ms from its acknowledgement until the follower shows it. */
async function writeThenReadFollower(leaderUrl: string, followerUrl: string): Promise<number> {
  const id = `lat-${nextId++}`;
  const written = await json("POST", `${leaderUrl}/orders`, { id });
  const acked = performance.now();
  // The follower answers this read as soon as it has applied the write (server side, no polling here).
  const read = await json("GET", `${followerUrl}/orders/${id}?minOffset=${written.body.event.offset}&timeoutMs=10000`);
  if (read.status !== 200) throw new Error(`follower did not show ${id}: ${read.status} ${JSON.stringify(read.body)}`);
  return performance.now() - acked;
}

/** Write acknowledged by the leader -> readable on the follower, one write at a time. */
async function measureLatency(longPoll: boolean, samples: number) {
  const leader = await startLeader();
  const follower = await startFollower(leader.url, longPoll);
  const latencies: number[] = [];
  for (let i = -3; i < samples; i++) {
    const latency = await writeThenReadFollower(leader.url, follower.url);
    if (i >= 0) latencies.push(latency); // the first three warm up
  }
  await stopAll();
  return { p50: median(latencies), p99: quantile(latencies, 0.99) };
}

/**
 * Writes per second that CLIENTS concurrent clients get acknowledged, each sending one write after
 * another, after WARM_UP_MS of the same load (then `beforeWindow`); and each server's CPU time per write.
 */
async function measureWrites(url: string, windowMs: number, servers: RunningProcess[] = [], beforeWindow = async () => {}): Promise<{ perSecond: number; cpuUsPerWrite: number[] }> {
  const warm = performance.now() + WARM_UP_MS;
  await Promise.all(Array.from({ length: CLIENTS }, () => writeUntil(url, warm, () => {})));
  await beforeWindow();
  let acknowledged = 0;
  const cpuBefore = servers.map((p) => cpuMs(p.pid!));
  const began = performance.now();
  const until = began + windowMs;
  await Promise.all(Array.from({ length: CLIENTS }, () => writeUntil(url, until, () => acknowledged++)));
  return {
    perSecond: acknowledged / ((performance.now() - began) / 1000),
    cpuUsPerWrite: servers.map((p, i) => ((cpuMs(p.pid!) - cpuBefore[i]!) * 1000) / acknowledged),
  };
}

/** One client: sends `POST /orders` after `POST /orders` until `until`. */
async function writeUntil(url: string, until: number, acknowledged: () => void) {
  while (performance.now() < until) {
    const reply = await json("POST", `${url}/orders`, { id: `w-${nextId++}` });
    if (reply.status !== 201) throw new Error(`write refused: ${reply.status} ${JSON.stringify(reply.body)}`);
    acknowledged();
  }
}

/** CPU time a process has used so far, in ms (Linux: /proc/<pid>/stat; elsewhere NaN). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in 1/100 s clock ticks
  } catch {
    return Number.NaN;
  }
}

/**
 * Windows measured between windows of a yardstick (the bare handler, or the asynchronous leader):
 * measures the first yardstick window now, and returns what divides each window's rate by the
 * mean of the yardstick's windows just before and just after it (measuring the one after), so
 * that a drift in the machine's load (it is shared) cancels out instead of landing on one side.
 */
async function betweenYardsticks(yardstick: () => Promise<number>) {
  let before = await yardstick();
  return async (perSecond: number) => {
    const after = await yardstick();
    const ratio = perSecond / ((before + after) / 2);
    before = after;
    return ratio;
  };
}

/** The leaders the throughput rounds compare with the bare handler: how many followers each has, and how they fetch. */
const SETUPS = [
  { name: "long", followers: 1, longPoll: true, env: {} },
  { name: "polled", followers: 1, longPoll: false, env: {} },
  { name: "alone", followers: 0, longPoll: true, env: {} },
  { name: "three", followers: 3, longPoll: true, env: {} },
  { name: "eight", followers: 8, longPoll: true, env: {} },
  // The same eight in one process: what they cost the leader, with less of what eight processes cost a machine of two cores.
  { name: "eightTogether", followers: 8, longPoll: true, env: {}, oneProcess: true },
  // The same eight fetching at most five times a second under a stream instead of twenty: what a fetch's fixed cost weighs.
  { name: "eightBatched", followers: 8, longPoll: true, env: { BATCH_WAIT_MS: String(BATCHED_WAIT_MS) } },
  // The same eight each keeping one stream open (STREAM=1): a batch is a line down it, not a request and its reply.
  { name: "eightStreamed", followers: 8, longPoll: true, env: { STREAM: "1" } },
] as const;
type SetupName = (typeof SETUPS)[number]["name"];

/**
 * The bare Express handler and the leaders of SETUPS (with one follower long-polling or polling,
 * with none, with three, with eight in one process and eight processes, and eight processes again
 * with a longer BATCH_WAIT_MS and streaming) in alternating windows: bare, leader, bare, next
 * leader, bare, ... Each leader window is compared with the mean of the bare windows on either
 * side of it, so a drift in the machine's load (this machine is shared) cancels out instead of
 * landing on one side. The leader with no follower tells the leader's own work (deciding,
 * logging, keeping the log) apart from what replicating costs it. Every process runs
 * throughout; the followers of the leaders not being measured only send their heartbeats.
 */
async function measureThroughput() {
  type Server = Awaited<ReturnType<typeof startLeader>>;
  const bare = await start(scriptsDir, {}, "bare", "bench/bare-express.ts");
  const leaders = [] as { name: SetupName; leader: Server; followers: { url: string }[]; processes: RunningProcess[] }[];
  for (const setup of SETUPS) {
    const leader = await startLeader();
    if ("oneProcess" in setup) {
      const group = await startFollowerGroup(leader.url, setup.followers, setup.env);
      leaders.push({ name: setup.name, leader, followers: group.urls.map((url) => ({ url })), processes: [group.proc] });
      continue;
    }
    const followers: Server[] = [];
    for (let i = 0; i < setup.followers; i++) followers.push(await startFollower(leader.url, setup.longPoll, setup.env));
    leaders.push({ name: setup.name, leader, followers, processes: followers.map((f) => f.proc) });
  }

  const bareRates: number[] = [];
  const bareCpu: number[] = [];
  const newSeries = () => ({ ratios: [] as number[], rates: [] as number[], leaderCpu: [] as number[], followerCpu: [] as number[], events: 0, fetches: 0, requests: 0 });
  const of = Object.fromEntries(SETUPS.map((setup) => [setup.name, newSeries()])) as Record<SetupName, ReturnType<typeof newSeries>>;
  const measureBare = async () => {
    const b = await measureWrites(bare.url, size.windowMs, [bare.proc]);
    bareRates.push(b.perSecond);
    bareCpu.push(b.cpuUsPerWrite[0]!);
    return b.perSecond;
  };
  const versusBare = await betweenYardsticks(measureBare);
  for (let round = 0; round < size.rounds; round++) {
    for (const { name, leader, followers, processes } of leaders) {
      let before = { events: 0, fetches: 0, requests: 0 };
      const l = await measureWrites(leader.url, size.windowMs, [leader.proc, ...processes], async () => void (before = await replicationCounts(leader.url, followers)));
      const after = await replicationCounts(leader.url, followers);
      of[name].events += after.events - before.events;
      of[name].fetches += after.fetches - before.fetches;
      of[name].requests += after.requests - before.requests;
      of[name].ratios.push(await versusBare(l.perSecond));
      of[name].rates.push(l.perSecond);
      of[name].leaderCpu.push(l.cpuUsPerWrite[0]!);
      if (followers.length) of[name].followerCpu.push(l.cpuUsPerWrite.slice(1).reduce((a, b) => a + b, 0) / followers.length);
    }
  }
  // Every follower of every setup, in one process or its own, has everything its leader took.
  for (const { name, leader, followers } of leaders) {
    const { head } = (await json("GET", `${leader.url}/replication`)).body as { head: number };
    for (const f of followers) await until(`${name}: ${f.url} applies all ${head} events`, async () => ((await json("GET", `${f.url}/status`)).body.appliedOffset === head - 1 ? true : undefined));
  }
  await stopAll();
  const summary = (name: SetupName) => ({
    followers: SETUPS.find((setup) => setup.name === name)!.followers,
    rate: median(of[name].rates),
    ratio: median(of[name].ratios),
    ratioQuartiles: [quantile(of[name].ratios, 0.25), quantile(of[name].ratios, 0.75)] as const,
    // Against the leader with none in the same round (each over the bare windows beside it): what the target counts.
    versusAlone: median(of[name].ratios.map((r, round) => r / of.alone.ratios[round]!)),
    leaderCpu: median(of[name].leaderCpu),
    followerCpu: median(of[name].followerCpu),
    eventsPerFetch: of[name].events / of[name].fetches,
    requestsPerEvent: of[name].requests / of[name].events,
  });
  return { bare: median(bareRates), bareCpu: median(bareCpu), ...(Object.fromEntries(SETUPS.map((setup) => [setup.name, summary(setup.name)])) as Record<SetupName, ReturnType<typeof summary>>) };
}

/**
 * What the leader has served its followers so far: events they applied (per follower, summed),
 * the fetches it answered, and every request they sent it (fetches and progress reports),
 * from the leader's `/replication` and each follower's `/status`.
 */
async function replicationCounts(leaderUrl: string, followers: { url: string }[]) {
  if (followers.length === 0) return { events: 0, fetches: 0, requests: 0 };
  const { body } = await json("GET", `${leaderUrl}/replication`);
  const statuses = await Promise.all(followers.map(async (f) => (await json("GET", `${f.url}/status`)).body));
  const requested = (body.followers as { fetches: number }[]).reduce((sum, f) => sum + f.fetches, 0);
  // A follower's fetches are the replies it took in: one a request, or one a line of a stream, whose reports go up it too.
  const fetches = statuses.reduce((sum, s) => sum + (s.fetches as number), 0);
  const acks = statuses.reduce((sum, s) => sum + (s.stream ? 0 : (s.acks as number)), 0);
  const events = statuses.reduce((sum, s) => sum + ((s.appliedOffset as number | null) ?? -1) + 1, 0);
  return { events, fetches, requests: requested + acks };
}

/**
 * Replication latency one hop and two hops away, in the same run: a leader, a follower, and a
 * follower of that follower. One write at a time; right after its acknowledgement both are
 * asked for it (`?minOffset=`), and each answers as soon as it has applied it.
 */
async function measureHops(samples: number) {
  const leader = await startLeader();
  const first = await startFollower(leader.url, true);
  const second = await startFollower(first.url, true);
  const one: number[] = [];
  const two: number[] = [];
  for (let i = -3; i < samples; i++) {
    const id = `hop-${nextId++}`;
    const written = await json("POST", `${leader.url}/orders`, { id });
    const acked = performance.now();
    const readOn = async (url: string) => {
      const read = await json("GET", `${url}/orders/${id}?minOffset=${written.body.event.offset}&timeoutMs=10000`);
      if (read.status !== 200) throw new Error(`${url} did not show ${id}: ${read.status} ${JSON.stringify(read.body)}`);
      return performance.now() - acked;
    };
    const [a, b] = await Promise.all([readOn(first.url), readOn(second.url)]);
    if (i >= 0) {
      one.push(a);
      two.push(b);
    }
  }
  await stopAll();
  return { one: { p50: median(one), p99: quantile(one, 0.99) }, two: { p50: median(two), p99: quantile(two, 0.99) } };
}

/**
 * Write acknowledged -> readable on the follower while CLIENTS other clients write as fast as
 * the leader takes it: what batching under load costs in latency (at most BATCH_WAIT_MS more).
 */
async function measureLatencyUnderLoad(longPoll: boolean, windowMs: number) {
  const leader = await startLeader();
  const follower = await startFollower(leader.url, longPoll);
  await measureWrites(leader.url, 300); // warm up
  const until = performance.now() + windowMs;
  const latencies: number[] = [];
  const probe = async () => {
    while (performance.now() < until) latencies.push(await writeThenReadFollower(leader.url, follower.url));
  };
  await Promise.all([probe(), ...Array.from({ length: CLIENTS }, () => writeUntil(leader.url, until, () => {}))]);
  await stopAll();
  return { p50: median(latencies), p99: quantile(latencies, 0.99) };
}

/** A follower starting empty against a leader that holds `backlog` events: events applied per second. */
async function measureCatchUp(backlog: number, longPoll: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "lab-bench-"));
  temporary.push(dir);
  writeLeaderLog(dir, backlog);
  const leader = await startLeader({ DATA_DIR: dir, RETAIN_EVENTS: String(backlog) });
  const follower = await startFollower(leader.url, longPoll);
  const began = performance.now(); // the follower starts replicating as it starts listening
  const read = await json("GET", `${follower.url}/orders/b-0?minOffset=${backlog - 1}&timeoutMs=30000`);
  const seconds = (performance.now() - began) / 1000;
  if (read.status !== 200) throw new Error(`follower did not catch up: ${read.status} ${JSON.stringify(read.body)}`);
  await stopAll();
  return backlog / seconds;
}

/** Reading the newest 100 events of a log of `count` events; and, for the big one, the leader's memory. */
async function measureTail(count: number) {
  const dir = mkdtempSync(join(tmpdir(), "lab-bench-"));
  temporary.push(dir);
  writeLeaderLog(dir, count);
  const startedAt = performance.now();
  const leader = await startLeader({ DATA_DIR: dir, RETAIN_EVENTS: String(count) });
  const startSeconds = (performance.now() - startedAt) / 1000;
  const times: number[] = [];
  for (let i = -20; i < size.tailReads; i++) {
    const began = performance.now();
    const reply = await json("GET", `${leader.url}/events?from=${count - 100}&limit=100`);
    if (reply.body.events?.length !== 100) throw new Error(`tail read: ${JSON.stringify(reply.body).slice(0, 200)}`);
    if (i >= 0) times.push(performance.now() - began);
  }
  const rssMb = residentMb(leader.proc.pid!);
  await stopAll();
  return { median: median(times), rssMb, startSeconds };
}

/** A process's resident memory in MB (Linux: /proc; elsewhere: ps). */
function residentMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  } catch {
    return Number.NaN; // not Linux: the table says n/a
  }
}

/**
 * What the live dashboard costs the leader. A leader, a long-polling follower and the dashboard
 * (its own process), next to the bare handler. Idle: for a few seconds with no writes, how many
 * updates an open page gets and how much CPU the leader and the follower use, with the page open
 * and with it closed. Under load: write windows with the page open and closed in turn (bare
 * windows between them, as in the throughput rounds); a page is a client reading /stream.
 */
async function measureDashboard() {
  const bare = await start(scriptsDir, {}, "bare", "bench/bare-express.ts");
  const leader = await startLeader();
  const follower = await startFollower(leader.url, true);
  const dashboard = await start(dashboardDir, { LEADER_URL: leader.url, FOLLOWER_URLS: follower.url, DASHBOARD_PORT: "0" }, "dashboard");
  const page = () => {
    const closing = new AbortController();
    let updates = 0;
    let first!: () => void;
    const firstUpdate = new Promise<void>((resolve) => (first = resolve));
    const reading = request(`${dashboard.url}/stream`, { signal: closing.signal }).then(async (reply) => {
      for await (const chunk of reply.body) {
        updates += String(chunk).split("\n\n").length - 1;
        first();
      }
    });
    reading.catch(() => {});
    return {
      get updates() {
        return updates;
      },
      /** Resolves once the page has its first state and the dashboard has had a moment to watch. */
      opened: async () => {
        await firstUpdate;
        await new Promise((resolve) => setTimeout(resolve, PAGE_SETTLE_MS));
      },
      close: () => closing.abort(),
    };
  };
  const idle = async (open: boolean) => {
    const p = open ? page() : undefined;
    await new Promise((r) => setTimeout(r, 6000)); // the first views, then the dashboard's 5 s of counting it all as a change
    const before = [cpuMs(leader.proc.pid!), cpuMs(follower.proc.pid!)];
    const updatesBefore = p?.updates ?? 0;
    await new Promise((r) => setTimeout(r, DASHBOARD_IDLE_MS));
    const cpu = cpuMs(leader.proc.pid!) - before[0]! + cpuMs(follower.proc.pid!) - before[1]!;
    const updates = (p?.updates ?? 0) - updatesBefore;
    p?.close();
    return { cpu, updates };
  };
  const idleClosed = await idle(false);
  const idleOpen = await idle(true);

  const ratios = { open: [] as number[], closed: [] as number[] };
  const cpu = { open: [] as number[][], closed: [] as number[][] };
  let updatesUnderLoad = 0;
  const versusBare = await betweenYardsticks(async () => (await measureWrites(bare.url, size.windowMs)).perSecond);
  const openVsClosed: number[] = [];
  for (let round = 0; round < size.rounds; round++) {
    const inRound = { open: 0, closed: 0 };
    // Open first in one round and closed first in the next, so that neither always follows the other.
    for (const open of round % 2 === 0 ? [true, false] : [false, true]) {
      const p = open ? page() : undefined;
      if (p) await p.opened(); // a page that is open: its first state and the dashboard's first rounds come before the window
      let updatesBefore = 0;
      const l = await measureWrites(leader.url, size.windowMs, [leader.proc, follower.proc, dashboard.proc], async () => void (updatesBefore = p?.updates ?? 0));
      (open ? cpu.open : cpu.closed).push(l.cpuUsPerWrite);
      if (p) {
        updatesUnderLoad += (p.updates - updatesBefore) / (size.windowMs / 1000);
        p.close();
      }
      const ratio = await versusBare(l.perSecond);
      (open ? ratios.open : ratios.closed).push(ratio);
      inRound[open ? "open" : "closed"] = ratio;
    }
    openVsClosed.push(inRound.open / inRound.closed);
  }
  await stopAll();
  const cpuOf = (windows: number[][]) => ({ leader: median(windows.map((w) => w[0]!)), follower: median(windows.map((w) => w[1]!)), dashboard: median(windows.map((w) => w[2]!)) });
  return {
    idleClosed,
    idleOpen,
    open: median(ratios.open),
    closed: median(ratios.closed),
    openVsClosed: median(openVsClosed),
    openVsClosedQuartiles: [quantile(openVsClosed, 0.25), quantile(openVsClosed, 0.75)] as const,
    cpuOpen: cpuOf(cpu.open),
    cpuClosed: cpuOf(cpu.closed),
    updatesPerSecond: updatesUnderLoad / size.rounds,
  };
}

/**
 * Write latency of several servers, `samples` writes each, one at a time, the servers taking
 * turns write by write, so that a drift in the machine's load falls on all of them alike.
 */
async function latenciesInTurns<N extends string>(servers: readonly { name: N; url: string }[], samples: number): Promise<Record<N, number[]>> {
  const latencies = Object.fromEntries(servers.map((server) => [server.name, [] as number[]])) as Record<N, number[]>;
  for (let i = 0; i < samples; i++) {
    for (const server of servers) {
      const began = performance.now();
      const reply = await json("POST", `${server.url}/orders`, { id: `turn-${nextId++}` });
      if (reply.status !== 201) throw new Error(`${server.name} write: ${reply.status} ${JSON.stringify(reply.body)}`);
      latencies[server.name].push(performance.now() - began);
    }
  }
  return latencies;
}

/**
 * What a synchronous write costs: three leaders, each with one long-polling follower
 * (APPLY_LAG_MS=0): asynchronous, SYNC_ACK=received and SYNC_ACK=applied (SYNC_REPLICAS=1).
 * Latency: one write at a time, the bare handler and the leaders taking turns write by write,
 * so a drift in the machine's load falls on all four; the bare handler's p50 is the loopback
 * round trip the target is counted in. Throughput: 16 clients in windows, the leaders and the bare
 * handler taking turns, as in the throughput rounds.
 */
async function measureSync() {
  const bare = await start(scriptsDir, {}, "bare", "bench/bare-express.ts");
  const setups = [] as { name: SyncSetup; url: string; proc: RunningProcess }[];
  const received = { SYNC_REPLICAS: "1", SYNC_ACK: "received" };
  const applied = { SYNC_REPLICAS: "1", SYNC_ACK: "applied" };
  for (const [name, env, followerEnv] of [
    ["async", {}, {}],
    ["received", received, {}],
    ["applied", applied, {}],
    ["receivedStreamed", received, { STREAM: "1" }],
    ["appliedStreamed", applied, { STREAM: "1" }],
  ] as const) {
    const leader = await startLeader(env);
    await startFollower(leader.url, true, followerEnv);
    setups.push({ name, url: leader.url, proc: leader.proc });
  }
  for (const url of [bare.url, ...setups.map((s) => s.url)]) await measureWrites(url, 300); // warm up before the latency turns
  const latencies = await latenciesInTurns([{ name: "bare", url: bare.url }, ...setups], size.samples);
  const ratios = Object.fromEntries(setups.map((setup) => [setup.name, [] as number[]])) as Record<SyncSetup, number[]>;
  const versusBare = await betweenYardsticks(async () => (await measureWrites(bare.url, size.windowMs)).perSecond);
  for (let round = 0; round < Math.max(1, Math.round(size.rounds / 2)); round++) {
    for (const s of setups) ratios[s.name].push(await versusBare((await measureWrites(s.url, size.windowMs)).perSecond));
  }
  await stopAll();
  const of = (name: keyof typeof latencies) => ({
    p50: median(latencies[name]),
    p99: quantile(latencies[name], 0.99),
    ratio: name === "bare" ? 1 : median(ratios[name]),
    // Against the asynchronous leader in the same round (each over the bare windows beside it): what the target counts.
    versusAsync: name === "bare" ? 1 : median(ratios[name].map((r, round) => r / ratios.async[round]!)),
  });
  return { bare: of("bare"), async: of("async"), received: of("received"), applied: of("applied"), receivedStreamed: of("receivedStreamed"), appliedStreamed: of("appliedStreamed") };
}
type SyncSetup = "async" | "received" | "applied" | "receivedStreamed" | "appliedStreamed";

/** The Raft group's election timeouts and heartbeat in the benchmark: the defaults, the chapter's. */
const RAFT_TIMEOUTS = { ELECTION_TIMEOUT_MIN_MS: "150", ELECTION_TIMEOUT_MAX_MS: "300", HEARTBEAT_MS: "50" };

/** Waits until the group agrees on a leader and every node has applied all it has committed; returns the leader. */
async function raftSettled(group: RaftProcesses): Promise<string> {
  return until("a Raft leader that every node follows, and has caught up with", async () => {
    const leader = await group.leader();
    if (!leader) return undefined;
    const statuses = await Promise.all(group.running().map(group.status));
    const { commitIndex } = statuses.find((st) => st.id === leader);
    return statuses.every((st) => st.lastApplied === commitIndex) ? leader : undefined;
  }, 20_000);
}

/**
 * A Raft group of three next to the asynchronous leader with one long-polling follower, all in
 * memory (no DATA_DIR, as the leaders of the other measures). Latency: one write at a time, the
 * two leaders and the bare handler taking turns write by write; the bare handler's round trip is
 * the yardstick of the target (a loopback HTTP round trip on a kept-alive connection). For Raft
 * a write is acknowledged once committed on a majority and applied. Throughput: 16 clients in
 * windows, the asynchronous leader and the Raft leader taking turns; each Raft window is compared
 * with the mean of the asynchronous windows on either side of it.
 */
async function measureRaft() {
  const bare = await start(scriptsDir, {}, "bare", "bench/bare-express.ts");
  const leader = await startLeader();
  await startFollower(leader.url, true);
  const group = await startRaftProcesses({ nodes: 3, env: RAFT_TIMEOUTS });
  try {
    const raftLeader = await raftSettled(group);
    const raft = { url: group.urlOf(raftLeader), procs: [group.proc(raftLeader), ...group.running().filter((id) => id !== raftLeader).map(group.proc)] };
    for (const url of [bare.url, leader.url, raft.url]) await measureWrites(url, 300); // warm up before the latency turns
    const latencies = await latenciesInTurns(
      [
        { name: "bare", url: bare.url },
        { name: "async", url: leader.url },
        { name: "raft", url: raft.url },
      ] as const,
      size.samples,
    );
    const ratios: number[] = [];
    const rates = { async: [] as number[], raft: [] as number[] };
    const cpu = { leader: [] as number[], follower: [] as number[] };
    const versusAsync = await betweenYardsticks(async () => {
      const rate = (await measureWrites(leader.url, size.windowMs)).perSecond;
      rates.async.push(rate);
      return rate;
    });
    for (let round = 0; round < Math.max(1, Math.round(size.rounds / 2)); round++) {
      const r = await measureWrites(raft.url, size.windowMs, raft.procs);
      ratios.push(await versusAsync(r.perSecond));
      rates.raft.push(r.perSecond);
      cpu.leader.push(r.cpuUsPerWrite[0]!);
      cpu.follower.push((r.cpuUsPerWrite[1]! + r.cpuUsPerWrite[2]!) / 2);
    }
    const of = (name: keyof typeof latencies) => ({ p50: median(latencies[name]), p99: quantile(latencies[name], 0.99) });
    return {
      bare: of("bare"),
      async: { ...of("async"), rate: median(rates.async) },
      raft: { ...of("raft"), rate: median(rates.raft), ratio: median(ratios), ratioQuartiles: [quantile(ratios, 0.25), quantile(ratios, 0.75)] as const, leaderCpu: median(cpu.leader), followerCpu: median(cpu.follower) },
    };
  } finally {
    await group.close();
    await stopAll();
  }
}

/**
 * From a Raft leader's death to the first write its successor acknowledges: a group of three
 * with a DATA_DIR each (a node killed and started again must remember its term and its vote), a
 * client writing one write after another to the leader; the leader is killed with SIGKILL; the
 * client then tries the survivors in turn, following a NOT_LEADER reply's leader when it names
 * one, 1 ms apart, until a write is acknowledged. The killed node is started again on its
 * DATA_DIR and the group left to settle before the next round.
 */
async function measureRaftFailover(rounds: number) {
  const dir = mkdtempSync(join(tmpdir(), "lab-bench-raft-"));
  temporary.push(dir);
  const group = await startRaftProcesses({ nodes: 3, dataDir: dir, env: RAFT_TIMEOUTS });
  const times: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const leader = await raftSettled(group);
      for (let i = 0; i < 20; i++) {
        const reply = await json("POST", `${group.urlOf(leader)}/orders`, { id: `f-${nextId++}` });
        if (reply.status !== 201) throw new Error(`write before the failover: ${reply.status} ${JSON.stringify(reply.body)}`);
      }
      const killedAt = performance.now();
      await group.kill(leader);
      const survivors = group.running();
      for (let attempt = 0, next = survivors[0]!; ; attempt++) {
        if (performance.now() - killedAt > 20_000) throw new Error(`no write acknowledged by ${survivors.join(" or ")} within 20 s of ${leader}'s death`);
        const reply = await json("POST", `${group.urlOf(next)}/orders`, { id: `f-${nextId++}` }).catch(() => undefined);
        if (reply?.status === 201) break;
        const named = reply?.body.leaderId as string | undefined;
        next = named && survivors.includes(named) ? named : survivors[(attempt + 1) % survivors.length]!;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      times.push(performance.now() - killedAt);
      await group.start(leader);
    }
  } finally {
    await group.close();
  }
  return { median: median(times), max: Math.max(...times), rounds };
}

const ms = (n: number) => (n < 10 ? `${n.toFixed(2)} ms` : `${Math.round(n)} ms`);
const perSecond = (n: number) => `${Math.round(n).toLocaleString("en-US")}/s`;
const percent = (r: number) => `${(r * 100).toFixed(0)}%`;
const spread = ([low, high]: readonly [number, number]) => `${(low * 100).toFixed(0)}–${percent(high)}`;
const us = (n: number) => (Number.isNaN(n) ? "n/a" : `${Math.round(n)} µs`);
const percentOver = (a: number, b: number) => `${a >= b ? "+" : "−"}${Math.abs(((a - b) / b) * 100).toFixed(0)}%`;

/**
 * The benchmark's parts, in the order a full run takes them. Each measures, prints its tables and
 * returns them. `pnpm bench --only sync,raft` runs some of them and only prints: the file is
 * written from a full run, so that every table in it comes from one run on one machine.
 */
const sections = {
  async core() {
    console.log("replication latency, long-polling");
    const longLatency = await measureLatency(true, size.samples);
    console.log("replication latency, polling every 300 ms");
    const polledLatency = await measureLatency(false, size.pollingSamples);
    console.log(`replication latency while ${CLIENTS} clients write, ${size.loadedMs} ms each`);
    const longLoaded = await measureLatencyUnderLoad(true, size.loadedMs);
    const polledLoaded = await measureLatencyUnderLoad(false, size.loadedMs);
    console.log(`write throughput, ${CLIENTS} clients, ${size.rounds} rounds of ${size.windowMs} ms per server: bare, and leaders with 1 (long-polling, polling), 0, 3 and 8 followers (in one process, and in eight)`);
    const throughput = await measureThroughput();
    console.log(`follower catch-up from a backlog of ${size.backlog.toLocaleString("en-US")}`);
    const catchUpLong = await measureCatchUp(size.backlog, true);
    const catchUpPolled = await measureCatchUp(size.backlog, false);
    console.log(`tail reads at ${size.tailSmall.toLocaleString("en-US")} and ${size.tailLarge.toLocaleString("en-US")} events`);
    const small = await measureTail(size.tailSmall);
    const large = await measureTail(size.tailLarge);
    console.log("replication latency one hop and two hops away (a follower of a follower)");
    const hops = await measureHops(size.hopSamples);
    const { long, polled, alone } = throughput;
    const rows: [string, string, string, string][] = [
      ["replication latency p50 (write acked -> readable on the follower)", ms(longLatency.p50), ms(polledLatency.p50), "≤ 3 ms"],
      ["replication latency p99", ms(longLatency.p99), ms(polledLatency.p99), "≤ 15 ms"],
      [`replication latency p50 / p99 while ${CLIENTS} clients write`, `${ms(longLoaded.p50)} / ${ms(longLoaded.p99)}`, `${ms(polledLoaded.p50)} / ${ms(polledLoaded.p99)}`, ""],
      [
        `write throughput, ${CLIENTS} clients, follower attached (bare Express: ${perSecond(throughput.bare)})`,
        `${perSecond(long.rate)} (${percent(long.ratio)}; middle half of rounds ${spread(long.ratioQuartiles)})`,
        `${perSecond(polled.rate)} (${percent(polled.ratio)}; middle half of rounds ${spread(polled.ratioQuartiles)})`,
        "≥ 90% of bare",
      ],
      [
        `CPU per write: leader (bare Express: ${us(throughput.bareCpu)})`,
        `${us(long.leaderCpu)} (${percentOver(long.leaderCpu, throughput.bareCpu)})`,
        `${us(polled.leaderCpu)} (${percentOver(polled.leaderCpu, throughput.bareCpu)})`,
        "",
      ],
      ["CPU per write: follower", us(long.followerCpu), us(polled.followerCpu), ""],
      [
        "the same leader with no follower: throughput; CPU per write",
        `${perSecond(alone.rate)} (${percent(alone.ratio)}; middle half of rounds ${spread(alone.ratioQuartiles)}); ${us(alone.leaderCpu)} (${percentOver(alone.leaderCpu, throughput.bareCpu)})`,
        "",
        "",
      ],
      ["events per fetch while they write", long.eventsPerFetch.toFixed(0), polled.eventsPerFetch.toFixed(0), ""],
      [`follower catch-up from ${size.backlog.toLocaleString("en-US")} events`, perSecond(catchUpLong), perSecond(catchUpPolled), ""],
      [`tail read (newest 100) at ${size.tailSmall.toLocaleString("en-US")} events`, ms(small.median), "", ""],
      [
        `tail read (newest 100) at ${size.tailLarge.toLocaleString("en-US")} events`,
        `${ms(large.median)} (${(large.median / small.median).toFixed(2)}x)`,
        "",
        "≤ 1.5x the one above",
      ],
      [`leader resident memory at ${size.tailLarge.toLocaleString("en-US")} events, all retained`, `${large.rssMb.toFixed(0)} MB`, "", "≤ 400 MB"],
      [`leader start-up, reading ${size.tailLarge.toLocaleString("en-US")} events back from DATA_DIR`, `${large.startSeconds.toFixed(1)} s`, "", ""],
    ];
    const table = [
      "| measure | long-polling | polling every 300 ms | target |",
      "| --- | --- | --- | --- |",
      ...rows.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");

    const { three, eight, eightTogether, eightBatched, eightStreamed } = throughput;
    const versusNone = (setup: typeof long) => `${percent(setup.versusAlone)} of the leader with none`;
    const followed = [long, three, eightTogether, eight, eightBatched, eightStreamed];
    const manyRows: string[][] = [
      ["write throughput (% of bare Express in the same rounds)", percent(alone.ratio), ...followed.map((s) => `${percent(s.ratio)} (${versusNone(s)})`)],
      ["middle half of the rounds", spread(alone.ratioQuartiles), ...followed.map((s) => spread(s.ratioQuartiles))],
      ["CPU per write: leader", us(alone.leaderCpu), ...followed.map((s) => `${us(s.leaderCpu)} (${percentOver(s.leaderCpu, alone.leaderCpu)})`)],
      ["CPU per write: each follower (all of them)", "", us(long.followerCpu), ...followed.slice(1).map((s) => `${us(s.followerCpu)} (${us(s.followers * s.followerCpu)})`)],
      ["events per fetch (STREAM=1: per line of the stream)", "", ...followed.map((s) => s.eventsPerFetch.toFixed(0))],
      ["requests to the leader per event replicated (fetches + progress reports)", "", ...followed.map((s) => s.requestsPerEvent.toFixed(3))],
    ];
    const manyTable = [
      `| while 16 clients write | no follower | 1 follower | 3 followers | 8 followers in one process | 8 follower processes | 8 processes, BATCH_WAIT_MS=${BATCHED_WAIT_MS} | 8 processes, STREAM=1 |`,
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      ...manyRows.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");
    const hopTable = [
      "| replication latency, one write at a time | one hop (a follower of the leader) | two hops (a follower of that follower) | target |",
      "| --- | --- | --- | --- |",
      `| p50 | ${ms(hops.one.p50)} | ${ms(hops.two.p50)} (${(hops.two.p50 / hops.one.p50).toFixed(2)}x) | two hops ≤ 2x one hop |`,
      `| p99 | ${ms(hops.one.p99)} | ${ms(hops.two.p99)} (${(hops.two.p99 / hops.one.p99).toFixed(2)}x) |  |`,
    ].join("\n");
    console.log(`\n${table}\n\n${manyTable}\n\n${hopTable}\n`);
    return { table, manyTable, hopTable };
  },
  async dashboard() {
    console.log("the live dashboard: idle, and while 16 clients write with a page open and closed");
    const dash = await measureDashboard();
    const dashTable = [
      "| the live dashboard | page closed | page open | target |",
      "| --- | --- | --- | --- |",
      `| idle for ${DASHBOARD_IDLE_MS / 1000} s: updates the page got | | ${dash.idleOpen.updates} | 0 |`,
      `| idle for ${DASHBOARD_IDLE_MS / 1000} s: CPU of the leader and the follower | ${dash.idleClosed.cpu.toFixed(0)} ms | ${dash.idleOpen.cpu.toFixed(0)} ms | no more with the page open |`,
      `| leader's write throughput while 16 clients write (% of bare) | ${percent(dash.closed)} | ${percent(dash.open)} (${percent(dash.openVsClosed)} of closed; middle half of rounds ${spread(dash.openVsClosedQuartiles)}) | ≥ 95% of closed |`,
      `| CPU per write while they write: leader; follower; dashboard | ${us(dash.cpuClosed.leader)}; ${us(dash.cpuClosed.follower)}; ${us(dash.cpuClosed.dashboard)} | ${us(dash.cpuOpen.leader)}; ${us(dash.cpuOpen.follower)}; ${us(dash.cpuOpen.dashboard)} |  |`,
      `| updates a second the page got while they write | | ${dash.updatesPerSecond.toFixed(1)} | 4 to 10 |`,
    ].join("\n");
    console.log(`${dashTable}\n`);
    return { dashTable };
  },
  async sync() {
    console.log("synchronous replication: latency and throughput, asynchronous, SYNC_ACK=received and SYNC_ACK=applied");
    const sync = await measureSync();
    const waiting = [sync.received, sync.applied, sync.receivedStreamed, sync.appliedStreamed];
    const over = (p50: number) => `${ms(p50)} (+${ms(p50 - sync.async.p50)}: ${((p50 - sync.async.p50) / sync.bare.p50).toFixed(1)} round trips)`;
    const syncTable = [
      `| one follower, APPLY_LAG_MS=0 (a loopback round trip, the bare handler's p50: ${ms(sync.bare.p50)}) | asynchronous | SYNC_ACK=received | SYNC_ACK=applied | received, the follower with STREAM=1 | applied, STREAM=1 | target |`,
      "| --- | --- | --- | --- | --- | --- | --- |",
      `| write latency p50, one write at a time | ${ms(sync.async.p50)} | ${waiting.map((w) => over(w.p50)).join(" | ")} | received ≤ asynchronous + 1 round trip (${ms(sync.async.p50 + sync.bare.p50)}) |`,
      `| write latency p99 | ${ms(sync.async.p99)} | ${waiting.map((w) => ms(w.p99)).join(" | ")} |  |`,
      `| write throughput, 16 clients (% of bare Express) | ${percent(sync.async.ratio)} | ${waiting.map((w) => `${percent(w.ratio)} (${percent(w.versusAsync)} of asynchronous)`).join(" | ")} | ≥ 70% of asynchronous |`,
    ].join("\n");
    console.log(`${syncTable}\n`);
    return { syncTable };
  },
  async raft() {
    console.log("Raft, 3 nodes: commit latency and write throughput, next to the asynchronous leader");
    const raft = await measureRaft();
    console.log(`Raft, 3 nodes: from the leader's SIGKILL to the first write its successor acknowledges, ${size.failovers} times`);
    const raftFailover = await measureRaftFailover(size.failovers);
    const roundTrips = (raft.raft.p50 - raft.async.p50) / raft.bare.p50;
    const raftTable = [
      `| loopback, no DATA_DIR (a loopback round trip, the bare handler's p50: ${ms(raft.bare.p50)}) | asynchronous leader, 1 follower | Raft, 3 nodes | target |`,
      "| --- | --- | --- | --- |",
      `| write latency p50, one write at a time (Raft: committed on a majority and applied) | ${ms(raft.async.p50)} | ${ms(raft.raft.p50)} (+${ms(raft.raft.p50 - raft.async.p50)}: ${roundTrips.toFixed(1)} round trips) | ≤ asynchronous + 2 round trips (${ms(raft.async.p50 + 2 * raft.bare.p50)}) |`,
      `| write latency p99 | ${ms(raft.async.p99)} | ${ms(raft.raft.p99)} |  |`,
      `| write throughput, ${CLIENTS} clients | ${perSecond(raft.async.rate)} | ${perSecond(raft.raft.rate)} (${percent(raft.raft.ratio)} of asynchronous; middle half of rounds ${spread(raft.raft.ratioQuartiles)}) | ≥ 50% of asynchronous |`,
      `| CPU per write: leader; each follower |  | ${us(raft.raft.leaderCpu)}; ${us(raft.raft.followerCpu)} |  |`,
      `| from the leader's SIGKILL to the first write its successor acknowledges (election timeouts 150-300 ms, DATA_DIR) |  | ${ms(raftFailover.median)} (median of ${raftFailover.rounds}; at most ${ms(raftFailover.max)}) |  |`,
    ].join("\n");
    console.log(`${raftTable}\n`);
    return { raftTable };
  },
};
type Section = keyof typeof sections;
const chosen = (values.only?.split(",").map((name) => name.trim()) ?? Object.keys(sections)) as Section[];
const unknown = chosen.filter((name) => !(name in sections));
if (unknown.length) {
  console.error(`pnpm bench --only: no part named ${unknown.join(", ")}; the parts are ${Object.keys(sections).join(", ")}`);
  process.exit(2);
}

try {
  console.log(`Benchmark${smoke ? " (smoke: tiny sizes, numbers mean nothing)" : ""}: ${chosen.join(", ")}; on loopback, APPLY_LAG_MS=0.`);
  const results: Partial<{ [S in Section]: Awaited<ReturnType<(typeof sections)[S]>> }> = {};
  for (const name of chosen) (results as Record<string, unknown>)[name] = await sections[name]();
  const { core, dashboard, sync, raft } = results;

  if (!smoke && core && dashboard && sync && raft) {
    const { table, manyTable, hopTable } = core;
    const { dashTable } = dashboard;
    const { syncTable } = sync;
    const { raftTable } = raft;
    const cpu = cpus();
    const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, Node ${process.version}`;
    writeFileSync(
      here("../docs/benchmarks.md"),
      `# Benchmarks

Written by \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}, on ${machine}.
The machine is shared (CPU steal up to ~30%): compare the columns of this run as ratios, not
with another run. \`pnpm bench --only sync\` (or \`core\`, \`dashboard\`, \`raft\`, several with commas)
runs some parts and prints their tables without writing this file.

${table}

## Many followers

Target: eight followers cost the leader at most 20% of the throughput it has with none (the
eight in one process; the eight processes show what they cost a machine of two cores besides:
see [many followers](many-followers.md#what-eight-followers-cost-on-two-cores)).

${manyTable}

${hopTable}

## The dashboard

${dashTable}

## Synchronous replication

${syncTable}

## Raft

${raftTable}

## How each is measured

All black-box, real processes on 127.0.0.1, \`APPLY_LAG_MS=0\`:

- **Latency**: one write at a time; from the leader's acknowledgement to the follower's answer
  to \`GET /orders/:id?minOffset=<offset>\`, which it gives as soon as it has applied the write
  (so the figure includes that read's round trip). ${size.samples} samples long-polling
  (\`LONG_POLL_MS=${LONG_POLL_MS}\`, the default), ${size.pollingSamples} polling every 300 ms (\`LONG_POLL_MS=0\`).
- **Latency while they write**: the same probe, one write at a time, for ${size.loadedMs / 1000} s
  while ${CLIENTS} other clients write to the leader as fast as it answers. Under such a stream
  the follower fetches in batches (it waits \`BATCH_WAIT_MS\`, ${BATCH_WAIT_MS} ms by default, after a
  reply of several events), which this figure includes.
- **Throughput**: ${CLIENTS} clients, each sending \`POST /orders\` one after another for
  ${size.windowMs / 1000} s; the servers take turns (bare, leader, bare, next leader, bare, ...)
  for ${size.rounds} rounds: eight leaders, one with a long-polling follower, one with a polling
  follower, one with no follower (which shows what the leader's own work costs apart from
  replication), one with three and four with eight long-polling followers. The first eight run in
  one process (\`scripts/bench/follower-group.ts\`: each has its own port, node, log, state and
  connection to the leader, as \`apps/worker\` builds it, so the leader serves them as it serves
  processes); the other three are eight processes each, as \`FOLLOWERS=8 pnpm dev\` runs them: with
  the defaults, with \`BATCH_WAIT_MS=${BATCHED_WAIT_MS}\` (a follower under a stream fetches at most five
  times a second instead of twenty), which shows what the fixed cost of a fetch weighs against the
  events it brings, and with \`STREAM=1\` (each follower keeps one stream open: a batch is a line down
  it, and a progress report a line up it, instead of a request and its reply). On this machine
  every process shares two cores with the leader, so the CPU its followers spend is taken from it;
  eight processes spend more than the same eight followers in one process, as each wakes, cold,
  for every batch, and the eight in one process come closer to what followers on machines of
  their own cost the leader. Every process runs
  throughout, so the followers of the leaders not being measured send their heartbeats meanwhile.
  Every window of every part (here, and in the dashboard's, synchronous and Raft rounds below) is
  preceded by ${WARM_UP_MS} ms of the same load, not counted: a process that sat idle while the others
  were measured starts cold, and without it the leader with no follower, which nothing touches
  between its windows, came out slower per write than the same leader with one follower (701 µs
  against 601 µs in the run of 2026-12-02 03:00 UTC). Writes/s are the median of the rounds; the percentage is the median
  over rounds of the leader's rate divided by the mean of the bare handler's rates in the windows
  just before and just after it, so that a drift in the machine's load cancels out; the range
  after it is the middle half of those per-round ratios (from the 25th to the 75th percentile),
  which shows how noisy the machine was; "of the leader with none" is the median over rounds of a
  leader's ratio divided by that of the leader with no follower in the same round. CPU per write
  is a process's CPU time (utime + stime from /proc/<pid>/stat) over the writes acknowledged in
  the window, the median of the rounds; the leader and its follower are measured in the same
  windows. Events per fetch: events the followers applied over the replies they took in (\`fetches\`
  in their \`/status\`: a reply to a fetch, or a line of a stream), in the leader's windows only.
  Requests per event: the requests the leader answered (\`fetches\` in its \`/replication\`: a fetch,
  or the opening of a stream) plus the progress reports the followers sent as requests (\`acks\` in
  their \`/status\`; on a stream they are lines, not requests), over the events all of them applied,
  in the leader's windows. The yardstick is \`scripts/bench/bare-express.ts\`: an Express 5 JSON
  POST handler that keeps orders in a Map and counts, with Express's defaults. The leader also
  validates, decides, logs each write and serves its follower; it turns off one default, the
  ETag (a SHA-1 of every reply body), which its replies never use.
- **Catch-up**: a leader started over a ${size.backlog.toLocaleString("en-US")}-event log on disk,
  then an empty follower; from its start to having applied the last offset.
- **Tail read**: \`GET /events?from=<head-100>&limit=100\`, the median of ${size.tailReads}.
- **The dashboard**: a leader, a long-polling follower and the dashboard (\`apps/dashboard\`, its
  own process); a page is a client reading its \`/stream\`. Idle: no writes for ${DASHBOARD_IDLE_MS / 1000} s, first
  with no page open, then with one; the page's updates after the first, and the CPU time the
  leader and the follower used. Under load: ${size.rounds} rounds of a window with a page open and
  one without (open first in one round, closed first in the next), each next to bare windows as
  above; a page is opened ${PAGE_SETTLE_MS} ms before its window (its first state and the
  dashboard's first rounds come before it) and closed at its end. "Of closed" is the median over
  rounds of the open window's ratio to bare divided by the closed window's in the same round. CPU
  per write of the three processes as in the throughput rounds (the dashboard runs on the same two
  cores, so what it spends the leader may lack).
- **Synchronous replication**: five leaders with one long-polling follower each (\`APPLY_LAG_MS=0\`):
  asynchronous, \`SYNC_REPLICAS=1 SYNC_ACK=received\` and \`SYNC_REPLICAS=1 SYNC_ACK=applied\`, and
  those two again with a follower that keeps a stream open (\`STREAM=1\`), which reports what it
  received up the stream instead of with its next fetch. Latency:
  ${size.samples} writes each, one at a time, the bare handler and the leaders taking turns write by write;
  a loopback round trip is the bare handler's p50 in the same turns. Throughput:
  16 clients in windows of ${size.windowMs / 1000} s, the leaders and the bare handler taking turns, the median
  of ${Math.max(1, Math.round(size.rounds / 2))} rounds; "of asynchronous" is the median over rounds of a leader's ratio to
  bare divided by the asynchronous leader's in the same round.
- **Raft**: a group of three \`apps/raft\` nodes (\`pnpm dev:raft\`'s plan, on free ports;
  election timeouts 150-300 ms, heartbeat 50 ms) beside the asynchronous leader with one
  long-polling follower, both in memory (no \`DATA_DIR\`). Latency: ${size.samples} writes each, one at a
  time, the bare handler, the asynchronous leader and the Raft leader taking turns write by
  write; a Raft write is answered once committed on a majority and applied on the leader, which
  takes an AppendEntries to the followers and their replies (one POST and its response) on top of
  what the asynchronous leader does. A loopback round trip is the bare handler's p50 in the same
  turns. Throughput: ${CLIENTS} clients in windows of ${size.windowMs / 1000} s, the asynchronous leader and the Raft leader taking
  turns for ${Math.max(1, Math.round(size.rounds / 2))} rounds; the percentage is the median over rounds of the Raft rate divided by the mean
  of the asynchronous windows just before and after it. Everything proposed in one turn of the
  leader's event loop goes in one AppendEntries per follower, and one batch is in flight per
  follower. CPU per write as above, the followers' averaged.
- **Raft failover**: three nodes with a \`DATA_DIR\` each; 20 writes to the leader, then SIGKILL
  to it; a client tries the survivors in turn (following a 421's \`leaderId\`), 1 ms apart,
  until one acknowledges a write: from the signal to that acknowledgement. The killed node is
  started again on its \`DATA_DIR\` and the group settles before the next of ${size.failovers} rounds.
- **One hop and two hops**: a leader, a follower and a follower of that follower, all
  long-polling with \`APPLY_LAG_MS=0\`; one write at a time, then both followers are asked for it
  at once (\`?minOffset=\`), each answering as soon as it has applied it; ${size.hopSamples} samples.
- **Memory**: the leader's resident set (VmRSS) after loading the log and the tail reads, with
  \`RETAIN_EVENTS\` high enough to keep every event in memory.
`,
    );
    console.log("Written to docs/benchmarks.md.");
  } else if (!smoke) {
    console.log("Printed only: docs/benchmarks.md is written by a full run (no --only).");
  }
} finally {
  await stopAll();
  await agent.close();
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
}
