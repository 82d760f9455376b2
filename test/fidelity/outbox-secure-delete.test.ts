import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteOutbox } from "../../src/outbox/sqlite.js";

describe("a delivered summary leaves no copy on disk (secure_delete, issue 14)", () => {
  it("after PUBACK and checkpoint, neither the database nor its WAL holds the payload", () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-sd-"));
    try {
      const path = join(dir, "outbox.db");
      const o = SqliteOutbox.open({ path, now: () => Date.UTC(2026, 0, 5) });
      const marker = Buffer.from("MARKER-6f1c2e9a-delivered-summary-".repeat(20));
      const [m] = o.commit([
        { topic: "roadside/d/traffic/lane1", priority: "routine", contentType: "application/senml+cbor", encode: () => marker },
      ]);
      o.ack(m!.seq);
      o.flushAcks();
      o.close();
      const all = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
      for (const bytes of all) expect(bytes.includes(Buffer.from("MARKER-6f1c2e9a"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
