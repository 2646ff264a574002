import { describe, expect, it } from "vitest";
import { systemClock } from "./clock.ts";
import { createManualClock } from "./manual-clock.ts";

describe("timers", () => {
  it("the manual clock fires a timer when its time comes, counts it as sleeping until then, and not at all once cancelled", async () => {
    const clock = createManualClock();
    const fired: string[] = [];
    clock.timer(100, () => fired.push("kept"));
    const cancel = clock.timer(50, () => fired.push("cancelled"));
    expect(clock.sleeping).toBe(2);
    cancel();
    expect(clock.sleeping).toBe(1);
    clock.advance(99);
    await Promise.resolve();
    expect(fired).toEqual([]);
    clock.advance(1);
    await Promise.resolve(); // it fires on a microtask, as the code after an awaited sleep would run
    expect(fired).toEqual(["kept"]);
    expect(clock.sleeping).toBe(0);
  });

  it("the system clock's timer fires, and a cancelled one does not", async () => {
    const fired: string[] = [];
    systemClock.timer(1, () => fired.push("cancelled"))();
    await new Promise<void>((resolve) => systemClock.timer(2, resolve)); // timers fire in the order they fall due

    expect(fired).toEqual([]);
  });
});
