import { describe, expect, it } from "vitest";
import { buildManifest } from "../../src/control/manifest.js";
import { validateConfig } from "../../src/config/load.js";
import { Topics } from "../../src/publish/topics.js";

// A subscriber reading the retained manifest must learn where a cellular device's data is: its
// stream topics stay silent (docs/payloads.md "Manifest", "Cellular profile").
function manifestOf(profile?: "standard" | "cellular") {
  const r = validateConfig({
    device: { id: "pole-9", board: "sim" },
    mqtt: { prefix: "city/roadside" },
    inputs: { "l1.up": { line: 17 } },
    detectors: { lane1: { loops: ["l1.up"] } },
    ...(profile ? { publish: { profile } } : {}),
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  const topics = new Topics("city/roadside", "pole-9");
  const stream = { topic: topics.stream("traffic", "lane1"), kind: "traffic", name: "lane1", windowS: 60, description: "", measures: [] };
  return JSON.parse(JSON.stringify(buildManifest(r.loaded, { version: "t", topics, payloadSchema: 1, streams: [stream] })));
}

describe("the manifest names the publish profile", () => {
  it("cellular: the profile and the …/window topic the streams travel on", () => {
    const m = manifestOf("cellular");
    expect(m.profile).toBe("cellular");
    expect(m.windowTopic).toBe("city/roadside/pole-9/window");
    expect(m.streams[0].topic).toBe("city/roadside/pole-9/traffic/lane1");
  });

  it("standard (the default): the profile, no window topic", () => {
    const m = manifestOf();
    expect(m.profile).toBe("standard");
    expect("windowTopic" in m).toBe(false);
  });
});
