import { describe, expect, it } from "vitest";
import { createLogger } from "../log/logger.js";
import { encodePack } from "../publish/envelope.js";
import { journalObserver } from "./live-view.js";

describe("journal lines (roadside run without a terminal)", () => {
  it("logs one JSON line per committed message with its stream, sequence number and readable values", () => {
    const lines: string[] = [];
    const logger = createLogger({ format: "json", write: (l) => lines.push(l), now: () => Date.UTC(2026, 0, 5, 7, 1, 0) });
    const payload = encodePack(
      [
        { bn: "p1:traffic:lane1:", bt: Date.UTC(2026, 0, 5, 7, 0, 0) / 1000, n: "seq", v: 41 },
        { n: "schema", v: 1 },
        { n: "window", u: "s", v: 60 },
        { n: "observed", u: "s", v: 60 },
        { n: "timeq", vs: "synced" },
        { n: "volume", u: "count", v: 23 },
        { n: "flow", u: "1/s", v: 23 / 60 },
      ],
      "cbor",
    );
    const obs = journalObserver(logger);
    obs.onCommitted(
      [{ seq: 41, topic: "roadside/p1/traffic/lane1", payload, priority: "routine", contentType: "application/senml+cbor", createdMs: 0 }],
      [],
    );
    obs.onDelivered({
      seq: 41,
      topic: "roadside/p1/traffic/lane1",
      payload,
      priority: "routine",
      contentType: "application/senml+cbor",
      createdMs: 0,
    });
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        time: "2026-01-05T07:01:00.000Z",
        level: "info",
        msg: "traffic/lane1 seq 41: volume 23, flow 1380 veh/h",
        topic: "roadside/p1/traffic/lane1",
        seq: 41,
        windowStart: "2026-01-05T07:00:00.000Z",
        timeq: "synced",
      },
    ]);
  });
});
