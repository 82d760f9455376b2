import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { EmbeddedBroker } from "../../src/mqtt/embedded.js";
import { startAedes, subscribe } from "../helpers/brokers.js";
import { alarms, decodeAll } from "../helpers/decode.js";

const ROOT = join(import.meta.dirname, "..", "..");

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t), isTTY: false });
  return { code, out, err };
}

describe("the Modbus examples run end to end under `roadside sim`", () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.close();
  });

  it("validates both", async () => {
    const r = await run(["validate", join(ROOT, "examples/manhole-modbus.yaml"), join(ROOT, "examples/bin-modbus.yaml")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });

  it("examples/manhole-modbus.yaml: two sensors on one line, the storm's spills, both faults", async () => {
    const sub = await subscribe(broker.url, "roadside/mh-0002/#");
    const r = await run(["sim", "-c", join(ROOT, "examples/manhole-modbus.yaml"), "-d", "6h", "--broker", broker.url, "--quiet"]);
    expect(r.code, r.out + r.err).toBe(0);
    await sub.waitFor((m) => decodeAll(m).filter((s) => s.msg.kind === "level").length >= 48);
    await sub.close();
    const seen = decodeAll(sub.messages);
    const spills = alarms(seen, "spill", "start").map((a) => a.stream);
    expect(new Set(spills)).toEqual(new Set(["mh2", "mh3"]));
    const faults = alarms(seen, "sensor-fault", "start").map((a) => `${a.stream} ${a.measures["cause"]?.vs}`);
    expect(faults).toEqual(["mh3 silent", "mh2 garbled"]);
  });

  it("examples/bin-modbus.yaml: fill, the pickup and the exception fault", async () => {
    const sub = await subscribe(broker.url, "roadside/bin-0043/#");
    const r = await run(["sim", "-c", join(ROOT, "examples/bin-modbus.yaml"), "-d", "30h", "--broker", broker.url, "--quiet"]);
    expect(r.code, r.out + r.err).toBe(0);
    await sub.waitFor((m) => alarms(decodeAll(m), "pickup").length >= 1);
    await sub.close();
    const seen = decodeAll(sub.messages);
    expect(seen.filter((s) => s.msg.kind === "bin").length).toBeGreaterThan(0);
    expect(alarms(seen, "sensor-fault", "start").map((a) => a.measures["cause"]?.vs)).toEqual(["garbled"]);
  });
});
