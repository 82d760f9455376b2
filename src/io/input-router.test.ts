import { describe, expect, it } from "vitest";
import { createLogger } from "../log/logger.js";
import type { DigitalInputHandlers, DigitalInputs, DigitalInputSpec, Level } from "./contract.js";
import { IoError } from "./contract.js";
import { InputRouter } from "./input-router.js";

/** A bank whose edges the test sends by hand. */
class HandBank implements DigitalInputs {
  readonly timestampSource = "hardware" as const;
  handlers: DigitalInputHandlers | undefined;
  levels: Level[] = [];
  async open(specs: readonly DigitalInputSpec[], handlers: DigitalInputHandlers): Promise<void> {
    this.handlers = handlers;
    this.levels = specs.map(() => 1);
  }
  level(index: number): Level {
    return this.levels[index]!;
  }
  async close(): Promise<void> {
    this.handlers = undefined;
  }
}

const spec = (name: string, line: number): DigitalInputSpec => ({ name, line, bias: "pull-up", activeLow: false, debounceUs: 0 });

function rig(): { bank: HandBank; router: InputRouter; lines: string[] } {
  const lines: string[] = [];
  const bank = new HandBank();
  const router = new InputRouter(
    [spec("a", 17), spec("b", 27), spec("c", 22)],
    bank,
    createLogger({ write: (l) => lines.push(l), format: "text" }),
  );
  return { bank, router, lines };
}

describe("InputRouter", () => {
  it("sends each input's edges to the feature that claimed it, and every edge to the recorder", async () => {
    const { bank, router } = rig();
    const got: string[] = [];
    router.claim("a", (level, t) => got.push(`a ${level} ${t}`));
    router.claim("c", (level, t) => got.push(`c ${level} ${t}`));
    const recorded: string[] = [];
    await router.open((input, level, t) => recorded.push(`${input} ${level} ${t}`));
    bank.handlers!.edge(2, 0, 5);
    bank.handlers!.edge(1, 1, 6); // b: nobody claimed it
    bank.handlers!.edge(0, 1, 7);
    expect(got).toEqual(["c 0 5", "a 1 7"]);
    expect(recorded).toEqual(["c 0 5", "b 1 6", "a 1 7"]);
    expect(router.unclaimed()).toEqual(["b"]);
  });

  it("refuses an input that is not configured, or one claimed twice", () => {
    const { router } = rig();
    router.claim("a", () => {});
    expect(() => router.claim("a", () => {})).toThrow(/input "a" is already claimed by another feature/);
    expect(() => router.claim("lane9", () => {})).toThrow(/input "lane9" is not configured/);
  });

  it("reads a claimed input's level from the bank once open, 0 before and after", async () => {
    const { bank, router } = rig();
    const b = router.claim("b", () => {});
    expect(b.level()).toBe(0);
    await router.open();
    bank.levels[1] = 1;
    expect(b.level()).toBe(1);
    await router.close();
    expect(b.level()).toBe(0);
  });

  it("tells lost edges to the input's feature, or to every feature when the bank cannot tell which line, and logs them", async () => {
    const { bank, router, lines } = rig();
    const drops: string[] = [];
    router.claim(
      "a",
      () => {},
      (n) => drops.push(`a ${n}`),
    );
    router.claim(
      "b",
      () => {},
      (n) => drops.push(`b ${n}`),
    );
    router.claim("c", () => {});
    await router.open();
    bank.handlers!.dropped(1, 3, 0);
    bank.handlers!.dropped(-1, 2, 0);
    expect(drops).toEqual(["b 3", "a 2", "b 2"]);
    expect(lines.join("\n")).toMatch(/3 edge\(s\) lost on b; counts of this window may be low/);
    expect(lines.join("\n")).toMatch(/2 edge\(s\) lost on the GPIO chip/);
    bank.handlers!.fault(new IoError("EIO", "line 17 gone", { subject: "a" }));
    bank.handlers!.restored();
    expect(lines.join("\n")).toMatch(/input fault: line 17 gone[\s\S]*inputs restored/);
  });
});
