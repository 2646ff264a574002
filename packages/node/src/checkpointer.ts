import type { Order } from "@lab/orders";
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from "@lab/replication";
import type { Clock, LogLine } from "@lab/service";

export interface CheckpointerOptions {
  /** The checkpoint file (DATA_DIR/follower-checkpoint.json). */
  file: string;
  clock: Clock;
  /** Save at most this often while events are being applied. */
  everyMs: number;
  /** Where the follower stands now: the log and the next offset to apply (undefined before it knows its log). */
  position(): { logId: string; nextOffset: number } | undefined;
  /** The state as it stands now; called in the same synchronous step as `position`. */
  state(): Order[];
  logLine: LogLine;
}

/**
 * Saves the follower's state together with its position, so that a restarted follower resumes
 * where it was instead of replaying the log from 0. Saving is throttled (`everyMs`): after a
 * crash the follower re-fetches and re-applies what came after its last checkpoint, which is
 * safe because the state in the checkpoint holds exactly the events before its offset.
 */
export function createCheckpointer({ file, clock, everyMs, position, state, logLine }: CheckpointerOptions) {
  let saved: { logId: string; nextOffset: number } | undefined;
  let savedAt = Number.NEGATIVE_INFINITY;

  return {
    /** The last checkpoint on disk, if any (read once at start-up). */
    load(): Checkpoint<Order[]> | undefined {
      const checkpoint = loadCheckpoint<Order[]>(file);
      if (checkpoint) saved = { logId: checkpoint.logId, nextOffset: checkpoint.nextOffset };
      return checkpoint;
    },
    /** Saves if the position moved and `everyMs` has passed since the last save (or `force`). */
    maybeSave(force = false) {
      const now = clock.now();
      if (!force && now - savedAt < everyMs) return;
      const at = position();
      if (!at || (saved && saved.logId === at.logId && saved.nextOffset === at.nextOffset)) return; // nothing new: copy nothing
      try {
        saveCheckpoint(file, { ...at, state: state() });
        saved = at;
        savedAt = now;
      } catch (err) {
        logLine(`could not save the checkpoint to ${file}: ${(err as Error).message}`);
      }
    },
  };
}

export type Checkpointer = ReturnType<typeof createCheckpointer>;
