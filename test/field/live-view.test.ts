import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { hasScript, startInPty, TerminalScreen } from "../helpers/terminal.js";

const FEED = fileURLToPath(new URL("../fixtures/live-view-feed.mjs", import.meta.url));

/** The screen as it was just before the program left the alternate screen. */
function lastScreen(output: string, columns: number, rows: number): string[] {
  const end = output.lastIndexOf("\x1b[?1049l");
  const s = new TerminalScreen(columns, rows);
  s.write(end >= 0 ? output.slice(0, end) : output);
  return s.text();
}

describe.skipIf(!hasScript())(`the live view of roadside run${hasScript() ? "" : ": skipped, util-linux script is missing"}`, () => {
  it("shows per input its state and counts this window, per stream the latest summary, the outbox and the broker", async () => {
    // test/fixtures/live-view-feed.mjs: 23 vehicles over lane1's trap (12 over lane2) in the first
    // minute, its summaries committed and delivered, 3 more on lane1 and one arriving on lane2, then
    // the broker link drops
    const run = startInPty(`${process.execPath} ${FEED}`, { columns: 120, rows: 30 });
    expect(await run.exited, run.output()).toBe(0);
    const screen = lastScreen(run.output(), 120, 30);
    const text = screen.join("\n");
    expect(screen[0]).toBe(
      "roadside pole-0042 (Raspberry Pi 5)  07:01:12 UTC  broker disconnected for 0s → mqtts://broker.city.example:8883",
    );
    expect(screen[1]).toBe("window 07:01:00 +1m, 12 s in · outbox 0 waiting, next seq 1189 · delivered 2 (last seq 1188, 12s ago)");
    expect(text).toMatch(/INPUT +LINE +STATE +EDGES +ON +LAST EDGE/);
    // counts restart with the window: lane1.up saw 3 vehicles (6 edges) since 07:01:00
    expect(text).toMatch(/lane1\.up +GPIO17 pin 11 +idle +6 +3 +3\.7 s ago/);
    expect(text).toMatch(/lane1\.down +GPIO27 pin 13 +idle +0 +0 +15\.5 s ago/);
    expect(text).toMatch(/lane2\.up +GPIO22 pin 15 +ACTIVE +1 +1 +1\.0 s ago/);
    expect(text).toMatch(/traffic\/lane1 +07:00:00 1m +1187 +volume 23 +flow 1380 veh\/h +occupancy 8\.7 %/);
    expect(text).toMatch(/traffic\/lane2 +07:00:00 1m +1188 +volume 12 +flow 720 veh\/h +occupancy 4\.1 %/);
    expect(text).toContain("07:01:12  broker disconnected");
    // log lines go into the view rather than over it
    expect(text).toContain(
      "07:01:12  WARN  lost the broker mqtts://broker.city.example:8883; summaries are kept in the outbox until it is back",
    );
    // it leaves the terminal as it found it: main screen back, cursor shown
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's escape sequences start with ESC
    expect(run.output().endsWith("\x1b[?25h\x1b[?1049l") || /\x1b\[\?25h\x1b\[\?1049l\s*$/.test(run.output())).toBe(true);
  });
});
