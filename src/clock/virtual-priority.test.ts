import { describe, expect, it } from "vitest";
import { VirtualClock } from "./virtual.js";

describe("virtual clock: timers due at the same instant", () => {
  it("run wall steps, then window boundaries, then the rest, each in the order set", () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimer(10, () => order.push("signal-1"));
    clock.setTimer(10, () => order.push("boundary-1"), { priority: "boundary" });
    clock.setTimer(5, () => order.push("earlier"));
    clock.setTimer(10, () => order.push("wall"), { priority: "wall" });
    clock.setTimer(10, () => order.push("signal-2"));
    clock.setTimer(10, () => order.push("boundary-2"), { priority: "boundary" });
    clock.advanceTo(20);
    expect(order).toEqual(["earlier", "wall", "boundary-1", "boundary-2", "signal-1", "signal-2"]);
  });
});
