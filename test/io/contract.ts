import { afterEach, describe, expect, it } from "vitest";
import type { DigitalInputs, DigitalInputSpec, IoError, Level, SerialPortLink, SerialSpec, SerialState } from "../../src/io/contract.js";

/**
 * The hardware contract suite (src/io/contract.ts is the specification). Every backend runs it:
 * the simulated ones always, real hardware when an environment variable names it. A rig adapts a
 * backend to the suite: it can set line levels and send bytes from the far end.
 */

/** A digital-input backend under test, with a way to move its lines. */
export interface InputsRig {
  inputs: DigitalInputs;
  /** At least two inputs: [0] active-low with pull-up, [1] active-high. */
  specs: DigitalInputSpec[];
  /** Set input i's level (after active-low) before `open`: its initial level. */
  preset(i: number, level: Level): Promise<void>;
  /** Change input i to `level` (one edge). */
  drive(i: number, level: Level): Promise<void>;
  /** Wait until everything driven so far could have been delivered. */
  settle(): Promise<void>;
  /** Take the backend's source away (helper process killed, board unplugged), when the rig can. */
  disconnect?: () => Promise<void>;
  /** A line number the board does not have. */
  badLine: number;
  cleanup(): Promise<void>;
}

interface Seen {
  edges: { index: number; level: Level; tNs: number }[];
  faults: IoError[];
  restored: number;
  dropped: number;
}

function watch(): { seen: Seen; handlers: Parameters<DigitalInputs["open"]>[1] } {
  const seen: Seen = { edges: [], faults: [], restored: 0, dropped: 0 };
  return {
    seen,
    handlers: {
      edge: (index, level, tNs) => seen.edges.push({ index, level, tNs }),
      dropped: (_i, n) => (seen.dropped += n),
      fault: (e) => seen.faults.push(e),
      restored: () => seen.restored++,
    },
  };
}

/** Run the digital-input contract against `make`, or skip every test with `skip` as the reason. */
export function digitalInputsContract(name: string, make: (() => Promise<InputsRig>) | undefined, skip?: string): void {
  const title = make ? name : `${name} (skipped: ${skip})`;
  describe(`DigitalInputs contract: ${title}`, () => {
    let rig: InputsRig | undefined;
    afterEach(async () => {
      await rig?.inputs.close();
      await rig?.cleanup();
      rig = undefined;
    });
    const test = it.skipIf(!make);

    test("reads each input's initial level at open, after active-low", async () => {
      rig = await make!();
      await rig.preset(0, 1);
      await rig.preset(1, 0);
      const w = watch();
      await rig.inputs.open(rig.specs, w.handlers);
      expect(["hardware", "callback", "virtual"]).toContain(rig.inputs.timestampSource);
      expect(rig.inputs.level(0)).toBe(1);
      expect(rig.inputs.level(1)).toBe(0);
      await rig.settle();
      expect(w.seen.edges).toEqual([]); // the initial level is not an edge
    });

    test("delivers every change once, alternating per input, with non-decreasing stamps", async () => {
      rig = await make!();
      await rig.preset(0, 0);
      await rig.preset(1, 0);
      const w = watch();
      await rig.inputs.open(rig.specs, w.handlers);
      const plan: [number, Level][] = [
        [0, 1],
        [1, 1],
        [0, 0],
        [0, 1],
        [1, 0],
        [0, 0],
        [1, 1],
      ];
      for (const [i, level] of plan) await rig.drive(i, level);
      await rig.settle();
      for (const i of [0, 1]) {
        const mine = w.seen.edges.filter((e) => e.index === i);
        expect(mine.map((e) => e.level)).toEqual(plan.filter(([k]) => k === i).map(([, l]) => l));
        for (let k = 1; k < mine.length; k++) expect(mine[k]!.tNs).toBeGreaterThanOrEqual(mine[k - 1]!.tNs);
      }
      expect(rig.inputs.level(0)).toBe(0);
      expect(rig.inputs.level(1)).toBe(1);
      expect(w.seen.dropped).toBe(0);
    });

    test("rejects a second open with EBUSY", async () => {
      rig = await make!();
      await rig.inputs.open(rig.specs, watch().handlers);
      await expect(rig.inputs.open(rig.specs, watch().handlers)).rejects.toMatchObject({ name: "IoError", code: "EBUSY" });
    });

    test("rejects a line the board lacks, naming the input, and opens fine afterwards", async () => {
      rig = await make!();
      const bad = [rig.specs[0]!, { ...rig.specs[1]!, name: "nowhere", line: rig.badLine }];
      await expect(rig.inputs.open(bad, watch().handlers)).rejects.toMatchObject({ name: "IoError", code: "BAD_LINE", subject: "nowhere" });
      await rig.inputs.close(); // safe on a bank that failed to open
      await rig.inputs.open(rig.specs, watch().handlers);
    });

    test("calls no handler after close resolves; close twice is safe", async () => {
      rig = await make!();
      await rig.preset(1, 0);
      const w = watch();
      await rig.inputs.open(rig.specs, w.handlers);
      await rig.inputs.close();
      await rig.drive(1, 1);
      await rig.settle();
      expect(w.seen.edges).toEqual([]);
      await rig.inputs.close();
    });

    it.skipIf(!make)("reports a lost source once, as a fault marked disconnected", async (ctx) => {
      rig = await make!();
      if (!rig.disconnect) return ctx.skip();
      const w = watch();
      await rig.inputs.open(rig.specs, w.handlers);
      await rig.disconnect();
      for (let i = 0; i < 10 && w.seen.faults.length === 0; i++) await rig.settle();
      await rig.settle();
      expect(w.seen.faults).toHaveLength(1);
      expect(w.seen.faults[0]).toMatchObject({ name: "IoError", disconnected: true });
    });
  });
}

/** A serial backend under test, with the far end of its cable. */
export interface SerialRig {
  link: SerialPortLink;
  spec: SerialSpec;
  /** The far end transmits. */
  send(data: Buffer): Promise<void>;
  /** Everything the far end has received from `link.write`. */
  received(): Buffer;
  settle(): Promise<void>;
  /** Pull and put back the cable, when the rig can. */
  unplug?: () => Promise<void>;
  plug?: () => Promise<void>;
  /** A path where no port exists. */
  missingPath: string;
  cleanup(): Promise<void>;
}

function listen(): { got: Buffer[]; stamps: number[]; states: SerialState[]; handlers: Parameters<SerialPortLink["open"]>[1] } {
  const got: Buffer[] = [];
  const stamps: number[] = [];
  const states: SerialState[] = [];
  return {
    got,
    stamps,
    states,
    handlers: {
      data: (c, t) => {
        got.push(c);
        stamps.push(t);
      },
      state: (s) => states.push(s),
    },
  };
}

/** Run the serial-port contract against `make`, or skip every test with `skip` as the reason. */
export function serialLinkContract(name: string, make: (() => Promise<SerialRig>) | undefined, skip?: string): void {
  const title = make ? name : `${name} (skipped: ${skip})`;
  describe(`SerialPortLink contract: ${title}`, () => {
    let rig: SerialRig | undefined;
    afterEach(async () => {
      await rig?.link.close();
      await rig?.cleanup();
      rig = undefined;
    });
    const test = it.skipIf(!make);

    test("delivers the far end's bytes in order with non-decreasing arrival stamps", async () => {
      rig = await make!();
      const l = listen();
      await rig.link.open(rig.spec, l.handlers);
      const frames = Array.from({ length: 20 }, (_, i) => `R${String(300 + i * 37).padStart(4, "0")}\r`);
      for (const f of frames) await rig.send(Buffer.from(f, "latin1"));
      await rig.settle();
      expect(Buffer.concat(l.got).toString("latin1")).toBe(frames.join(""));
      for (let k = 1; k < l.stamps.length; k++) expect(l.stamps[k]!).toBeGreaterThanOrEqual(l.stamps[k - 1]!);
    });

    test("writes reach the far end; a write on a closed port rejects with ENOTOPEN", async () => {
      rig = await make!();
      await rig.link.open(rig.spec, listen().handlers);
      await rig.link.write(Buffer.from([0x02, 0x54, 0x0d]));
      await rig.settle();
      expect(rig.received()).toEqual(Buffer.from([0x02, 0x54, 0x0d]));
      await rig.link.close();
      await expect(rig.link.write(Buffer.from("x"))).rejects.toMatchObject({ name: "IoError", code: "ENOTOPEN" });
    });

    test("rejects a missing port with ENOENT, naming the port and the fix", async () => {
      rig = await make!();
      await expect(rig.link.open({ ...rig.spec, path: rig.missingPath }, listen().handlers)).rejects.toMatchObject({
        name: "IoError",
        code: "ENOENT",
        subject: rig.spec.name,
        message: expect.stringContaining("check the cable"),
      });
      await rig.link.open(rig.spec, listen().handlers); // the link is usable after a failed open
    });

    test("rejects a second open with EBUSY", async () => {
      rig = await make!();
      await rig.link.open(rig.spec, listen().handlers);
      await expect(rig.link.open(rig.spec, listen().handlers)).rejects.toMatchObject({ code: "EBUSY" });
    });

    test("calls no handler after close resolves; close twice is safe", async () => {
      rig = await make!();
      const l = listen();
      await rig.link.open(rig.spec, l.handlers);
      await rig.link.close();
      await rig.send(Buffer.from("late\r")).catch(() => {});
      await rig.settle();
      expect(l.got).toEqual([]);
      await rig.link.close();
    });

    it.skipIf(!make)("after an unplug reports reopening once, reopens with backoff when plugged, and delivers again", async (ctx) => {
      rig = await make!();
      if (!rig.unplug || !rig.plug) return ctx.skip();
      const l = listen();
      await rig.link.open(rig.spec, l.handlers);
      await rig.unplug();
      for (let i = 0; i < 20 && l.states.length === 0; i++) await rig.settle();
      await rig.settle();
      expect(l.states).toEqual(["reopening"]);
      await rig.plug();
      for (let i = 0; i < 20 && !l.states.includes("open"); i++) await rig.settle();
      expect(l.states).toEqual(["reopening", "open"]);
      await rig.send(Buffer.from("back\r"));
      await rig.settle();
      expect(Buffer.concat(l.got).toString("latin1")).toBe("back\r");
    });
  });
}
