/**
 * What a follower can prove about how stale it is (bounded staleness), measured on its own
 * clock only, so no two clocks are ever compared.
 *
 * Every reply from the upstream says how long the upstream held the request (`heldMs`) and how
 * stale the upstream's own head may be (`stalenessMs`: 0 from the leader). The upstream read its
 * head when it replied, which was at least `heldMs` after the follower sent the request. So once
 * the follower has received everything below that head, it holds every write the leader
 * acknowledged before `sentAt + heldMs - stalenessMs` on the follower's clock: that moment is
 * what the received log is "fresh as of". Once it has also applied everything below that head,
 * its state is fresh as of the same moment. A read at `now` then reflects every write
 * acknowledged more than `now - freshAsOf` ms earlier. A follower that stops hearing its upstream
 * (the upstream is down, or it is far behind) sees that bound grow, and says so.
 */
export function createFreshness() {
  let receivedAsOf: number | undefined;
  let appliedAsOf: number | undefined;
  // Heads the received log has reached, each with the moment it was fresh as of, waiting to be applied.
  let marks: { head: number; asOf: number }[] = [];

  return {
    /**
     * Records a reply. `complete`: the follower now has every offset below `head`. A reply that
     * left more to fetch, or an upstream that cannot vouch for its own head, proves nothing.
     */
    noteReply({ sentAt, heldMs, stalenessMs, head, complete }: { sentAt: number; heldMs: number; stalenessMs: number | null; head: number; complete: boolean }) {
      if (!complete || stalenessMs === null) return;
      const asOf = sentAt + heldMs - stalenessMs;
      if (receivedAsOf !== undefined && asOf <= receivedAsOf) return;
      receivedAsOf = asOf;
      marks.push({ head, asOf });
      if (marks.length > 10_000) marks = marks.filter((_, i) => i % 2 === 1); // keep the later half of each pair: still a sound bound
    },
    /** The follower has applied every offset below `appliedNext`. */
    noteApplied(appliedNext: number) {
      let used = 0;
      while (used < marks.length && marks[used]!.head <= appliedNext) appliedAsOf = marks[used++]!.asOf;
      if (used > 0) marks = marks.slice(used);
    },
    /** Forgets everything: after a resync the state came from a snapshot, not from these replies. */
    reset() {
      receivedAsOf = appliedAsOf = undefined;
      marks = [];
    },
    /** How stale the received log may be at `now`, or null if nothing is proven yet. */
    receivedStalenessMs(now: number): number | null {
      return receivedAsOf === undefined ? null : Math.max(0, now - receivedAsOf);
    },
    /** How stale the applied state may be at `now`, or null if nothing is proven yet. */
    appliedStalenessMs(now: number): number | null {
      return appliedAsOf === undefined ? null : Math.max(0, now - appliedAsOf);
    },
  };
}

export type Freshness = ReturnType<typeof createFreshness>;
