import { closeSync, mkdtempSync, openSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isJournalStream, withPriority } from "./journal.js";
import { createLogger } from "./logger.js";

describe("journald priorities", () => {
  it("every line of a message carries the priority", () => {
    expect(withPriority("one\ntwo\n", 4)).toBe("<4>one\n<4>two\n");
    expect(withPriority("no newline", 3)).toBe("<3>no newline");
  });

  it("the logger tags each level as sd-daemon(3) does: error 3, warn 4, info 6, debug 7", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", format: "json", write: (l) => lines.push(l), priorityPrefix: true, now: () => 0 });
    log.error("e");
    log.warn("w\nsecond line");
    log.info("i");
    log.debug("d");
    expect(lines.map((l) => l.slice(0, 3))).toEqual(["<3>", "<4>", "<6>", "<7>"]);
    // JSON keeps a multi-line message on one journal line
    expect(lines[1]!.split("\n").filter(Boolean)).toHaveLength(1);
    const text: string[] = [];
    createLogger({ format: "text", write: (l) => text.push(l), priorityPrefix: true }).warn("a\nb");
    expect(text[0]).toMatch(/^<4>.*WARN +a\n<4>b\n$/);
  });

  it("without the prefix, lines are as before", () => {
    const lines: string[] = [];
    createLogger({ format: "json", write: (l) => lines.push(l), priorityPrefix: false }).warn("w");
    expect(lines[0]!.startsWith("{")).toBe(true);
  });

  it("recognises the journal stream by JOURNAL_STREAM's device and inode, not by its mere presence", () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-journal-"));
    const file = join(dir, "stream");
    const fd = openSync(file, "w");
    try {
      const st = statSync(file);
      expect(isJournalStream(fd, { JOURNAL_STREAM: `${st.dev}:${st.ino}` })).toBe(true);
      expect(isJournalStream(fd, { JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` })).toBe(false);
      expect(isJournalStream(fd, { JOURNAL_STREAM: "garbage" })).toBe(false);
      expect(isJournalStream(fd, {})).toBe(false);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, "utf8")).toBe("");
  });
});
