import { describe, expect, it } from "vitest";
import { createFreshness } from "./freshness.ts";

const reply = (over: Partial<{ sentAt: number; heldMs: number; stalenessMs: number | null; head: number; complete: boolean }> = {}) => ({
  sentAt: 1000,
  heldMs: 0,
  stalenessMs: 0,
  head: 5,
  complete: true,
  ...over,
});

describe("freshness -> before anything is proven", () => {
  it("cannot tell how stale it is", () => {
    const f = createFreshness();
    expect([f.receivedStalenessMs(5000), f.appliedStalenessMs(5000)]).toEqual([null, null]);
  });
});

describe("freshness -> a reply that brought everything", () => {
  it("makes the received log fresh as of when the request was sent, plus how long the upstream held it", () => {
    const f = createFreshness();
    f.noteReply(reply({ sentAt: 1000, heldMs: 400 }));
    expect(f.receivedStalenessMs(1450), "the upstream read its head at 1400 at the earliest").toBe(50);
  });

  it("makes the applied state fresh only once everything below that head is applied", () => {
    const f = createFreshness();
    f.noteReply(reply({ sentAt: 1000, head: 5 }));
    f.noteApplied(4);
    expect(f.appliedStalenessMs(1200), "offset 4 not applied yet").toBeNull();
    f.noteApplied(5);
    expect(f.appliedStalenessMs(1200)).toBe(200);
  });

  it("adds the upstream's own staleness (a follower of a follower)", () => {
    const f = createFreshness();
    f.noteReply(reply({ sentAt: 1000, heldMs: 100, stalenessMs: 300 }));
    f.noteApplied(5);
    expect(f.appliedStalenessMs(1100)).toBe(300);
  });

  it("keeps the applied state's bound at the last head it has fully applied while newer replies wait", () => {
    const f = createFreshness();
    f.noteReply(reply({ sentAt: 1000, head: 5 }));
    f.noteApplied(5);
    f.noteReply(reply({ sentAt: 2000, head: 9 }));
    f.noteApplied(7);
    expect([f.receivedStalenessMs(2500), f.appliedStalenessMs(2500)]).toEqual([500, 1500]);
    f.noteApplied(9);
    expect(f.appliedStalenessMs(2500)).toBe(500);
  });
});

describe("freshness -> replies that prove nothing", () => {
  it("ignores a reply that left more to fetch, and one from an upstream that cannot vouch for itself", () => {
    const f = createFreshness();
    f.noteReply(reply({ complete: false }));
    f.noteReply(reply({ stalenessMs: null }));
    f.noteApplied(5);
    expect([f.receivedStalenessMs(2000), f.appliedStalenessMs(2000)]).toEqual([null, null]);
  });

  it("forgets everything on a resync", () => {
    const f = createFreshness();
    f.noteReply(reply());
    f.noteApplied(5);
    f.reset();
    expect([f.receivedStalenessMs(2000), f.appliedStalenessMs(2000)]).toEqual([null, null]);
  });
});
