import { readJsonFile, writeFileAtomically } from "@lab/replication";

/**
 * What a node keeps in DATA_DIR/node.json about itself, beside its log: the role it last held
 * (a promoted follower is a leader from then on, like a PostgreSQL standby once `standby.signal`
 * is gone; a leader told to follow stays a follower) and the newest leadership it has heard of,
 * so that a node fenced once stays fenced after a restart (as Raft keeps `currentTerm`).
 */
export interface NodeFile {
  role: "leader" | "follower";
  /** The upstream it follows, when a follower. */
  upstreamUrl?: string;
  /** The newest epoch this node has heard of, and where its leader takes writes, if known. */
  newestEpoch: number;
  newestLeaderUrl?: string;
}

/** Reads DATA_DIR/node.json, or undefined when there is none yet. A file that does not parse is an error, not a fresh start. */
export function loadNodeFile(file: string): NodeFile | undefined {
  const value = readJsonFile(file, "a node file") as Partial<NodeFile> | null | undefined;
  if (value === undefined) return undefined;
  const url = (u: unknown) => u === undefined || (typeof u === "string" && /^https?:\/\//.test(u));
  if (
    (value?.role !== "leader" && value?.role !== "follower") ||
    !Number.isSafeInteger(value.newestEpoch) ||
    (value.newestEpoch as number) < 0 ||
    !url(value.upstreamUrl) ||
    !url(value.newestLeaderUrl) ||
    (value.role === "follower" && value.upstreamUrl === undefined)
  ) {
    throw new Error(`${file} is not a node file: ${JSON.stringify(value).slice(0, 200)}`);
  }
  return value as NodeFile;
}

/** Replaces DATA_DIR/node.json atomically. */
export function saveNodeFile(file: string, value: NodeFile): void {
  writeFileAtomically(file, JSON.stringify(value));
}
