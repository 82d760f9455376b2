import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROADSIDE } from "../helpers/cli.js";
import { hasScript, startInPty, TerminalScreen } from "../helpers/terminal.js";

describe.skipIf(!hasScript())(
  `roadside run on a terminal${hasScript() ? "" : ": skipped, util-linux script is missing (apt-get install -y bsdutils)"}`,
  () => {
    it("shows the live view: inputs with their state and edges, the latest summary per stream, the outbox and the broker", async () => {
      const dir = mkdtempSync(join(tmpdir(), "roadside-live-"));
      const run = startInPty(`${process.execPath} ${ROADSIDE} run --duration 12s --state-dir ${join(dir, "s")}`, {
        columns: 110,
        rows: 32,
      });
      expect(await run.exited, run.output()).toBe(0);
      // the screen as it was just before the program left the alternate screen
      const out = run.output();
      const end = out.lastIndexOf("\x1b[?1049l");
      expect(end, "the live view leaves the alternate screen on exit").toBeGreaterThan(0);
      const screen = new TerminalScreen(110, 32);
      screen.write(out.slice(0, end));
      const text = screen.text().join("\n");
      expect(text).toMatch(/roadside demo-0001 \(roadside hardware simulator\)/);
      expect(text).toMatch(/broker connected/);
      expect(text).toMatch(/INPUT\s+LINE\s+STATE\s+EDGES/);
      for (const input of ["lane1.up", "lane1.down", "lane2.up", "lane2.down"])
        expect(text).toMatch(new RegExp(`${input.replace(".", "\\.")}\\s+GPIO\\d+ pin \\d+\\s+(idle|ACTIVE)\\s+\\d+`));
      expect(text).toMatch(/traffic\/lane1\s+\d\d:\d\d:\d\d 10s\s+\d+\s+volume \d+/);
      expect(text).toMatch(/outbox \d+ waiting/);
    });
  },
);
