import { majority } from "@lab/raft";
import { ConfigError, consoleLogger, listen, runMain, systemClock } from "@lab/service";
import { readRaftConfig } from "./config.ts";
import { buildRaftNode, type RaftNode } from "./raft-node.ts";

// A node of the Raft group: read the config, build the node (its Raft state read back from
// DATA_DIR, if it has one), listen on loopback at its URL's port, start its election timer.
const env = process.env;
const logLine = consoleLogger(env.RAFT_ID?.trim() || "raft");
runMain(logLine, async () => {
  const config = readRaftConfig(env);
  const members = config.members.map((m) => `${m.id}=${m.url}`).join(", ");
  let node: RaftNode;
  try {
    node = buildRaftNode(config, { clock: systemClock, logLine });
  } catch (err) {
    // Only DATA_DIR can refuse here (another group's, another node's, or corrupt): say so in one line.
    throw new ConfigError(`${(err as Error).message} (this node: ${config.id} of ${members})`);
  }
  logLine(`config: RAFT_ID=${config.id}; ${config.members.length} members (${members}), group ${config.group}; a majority is ${majority(config.members.length)}`);
  logLine(`config: election timeout ${config.electionTimeout.min}-${config.electionTimeout.max} ms, heartbeat ${config.heartbeatIntervalMs} ms, COMMIT_TIMEOUT_MS=${config.commitTimeoutMs}, PRE_VOTE=${config.preVote}`);
  const { currentTerm, votedFor, lastLogIndex } = node.raft.status();
  if (config.dataDir) logLine(`config: DATA_DIR=${config.dataDir}: term ${currentTerm}, votedFor ${votedFor ?? "nobody"}, ${lastLogIndex} log entries`);
  else logLine("config: no DATA_DIR: currentTerm, votedFor and the log live in memory, and a restart forgets them");
  const server = await listen((req, res) => node.app(req, res), { host: "127.0.0.1", port: config.port });
  logLine(`listening on ${server.url} (pid ${process.pid})`);
  node.start();
  return {
    async close() {
      await server.close();
      await node.close();
    },
  };
});
