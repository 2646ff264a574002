import { readJsonFile, writeFileAtomically } from "./atomic-file.ts";

/** A follower's saved position and the state it had built up to it: saved together, or not at all. */
export interface Checkpoint<S> {
  /** The log it was following. */
  logId: string;
  /** The next offset to apply: the state holds exactly the events before it. */
  nextOffset: number;
  state: S;
}

/**
 * Saves a checkpoint atomically (see writeFileAtomically). A crash at any moment leaves either the old checkpoint or the new one, never half of
 * each, so a restarted follower resumes from a state and position that belong together: no
 * event applied twice, none skipped.
 */
export function saveCheckpoint<S>(file: string, checkpoint: Checkpoint<S>): void {
  writeFileAtomically(file, JSON.stringify(checkpoint));
}

/** Loads a checkpoint, or undefined if there is none yet. A file that does not parse is an error, not a fresh start. */
export function loadCheckpoint<S>(file: string): Checkpoint<S> | undefined {
  const checkpoint = readJsonFile(file, "a follower checkpoint") as Checkpoint<S> | null | undefined;
  if (checkpoint === undefined) return undefined;
  if (typeof checkpoint?.logId !== "string" || !Number.isSafeInteger(checkpoint.nextOffset)) {
    throw new Error(`${file} is not a follower checkpoint`);
  }
  return checkpoint;
}
