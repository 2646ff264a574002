import { createHttpTransport, createMemoryStorage, createRaftServer, openFileStorage, type RaftStorage, type TimerClock } from "@lab/raft";
import type { LogLine } from "@lab/service";
import { createRaftApp } from "./app.ts";
import type { RaftConfig } from "./config.ts";
import { checkOrderEntry, createOrdersMachine, type OrderEntry } from "./orders-machine.ts";

export interface RaftNodeDeps {
  clock: TimerClock;
  /** In [0, 1), for the election timeouts; Math.random unless a test decides who stands first. */
  random?: (() => number) | undefined;
  logLine: LogLine;
}

/**
 * Whether a node is cut off from the other members (`POST /admin/disconnect`): while it is, every
 * Raft message it would send is dropped (none rides in a response either), every one it is sent
 * refused, and none is taken from a response, as a network cut would; clients still reach it.
 * eliben/raft's harness calls this DisconnectPeer.
 */
export interface Link {
  readonly disconnected: boolean;
  /** Cuts the node off, or joins it again; true if that changed anything. */
  set(disconnected: boolean): boolean;
}

/**
 * Builds one node of the group: its storage (DATA_DIR, or memory), the Raft server running the
 * orders state machine, the HTTP transport to its peers, and the app. Nothing runs until
 * `start()`; `close()` stops the timer, answers what waits, drops the peers' connections and
 * closes the storage. A DATA_DIR that holds another group's or another node's state is refused.
 */
export function buildRaftNode(config: RaftConfig, { clock, random = Math.random, logLine }: RaftNodeDeps) {
  const storage: RaftStorage<OrderEntry> & { close?(): void } = config.dataDir
    ? openFileStorage<OrderEntry>({ dir: config.dataDir, groupId: config.group, nodeId: config.id, logLine })
    : createMemoryStorage<OrderEntry>();
  const peers = config.members.filter((m) => m.id !== config.id);
  const machine = createOrdersMachine();
  let disconnected = false;
  const link: Link = {
    get disconnected() {
      return disconnected;
    },
    set(value) {
      if (value === disconnected) return false;
      disconnected = value;
      return true;
    },
  };
  const transport = createHttpTransport<OrderEntry>({
    id: config.id,
    group: config.group,
    urls: new Map(peers.map((m) => [m.id, m.url])),
    checkCommand: checkOrderEntry,
    receive: (message): Promise<void> => raft.receive(message), // raft is built next, with transport.send
    disconnected: () => disconnected,
    logLine,
  });
  const raft = createRaftServer({
    id: config.id,
    peers: peers.map((m) => m.id),
    storage,
    clock,
    random,
    electionTimeout: config.electionTimeout,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    preVote: config.preVote,
    logLine,
    send: transport.send,
    apply: machine.apply,
  });
  const app = createRaftApp({ config, raft, answer: transport.answer, orders: machine.orders, clock, logLine, link });
  return {
    app,
    raft,
    link,
    orders: machine.orders,
    start: () => raft.start(),
    /** How many messages to peers are on their way (until what their responses carry is taken in), and a promise of none: for tests that wait for a quiet network. */
    pending: transport.pending,
    whenIdle: transport.whenIdle,
    async close() {
      raft.stop();
      await transport.close();
      storage.close?.();
    },
  };
}

export type RaftNode = ReturnType<typeof buildRaftNode>;
