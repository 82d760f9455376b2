import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("the field and subscriber commands", () => {
  it("are listed in roadside --help and each has --help", async () => {
    const top = await runCli(["--help"]);
    for (const cmd of ["provision", "doctor", "test", "support", "install", "watch"]) {
      expect(top.stdout).toMatch(new RegExp(`^  ${cmd} +\\S`, "m"));
      const r = await runCli([cmd, "--help"]);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`^Usage: roadside ${cmd}`));
      expect(r.stdout, cmd).toMatch(/Exit codes: 0/);
    }
  });

  it("reject bad flags with exit 2 and say why", async () => {
    const cases: [string[], RegExp][] = [
      [["watch", "--broker", "http://x"], /--broker "http:\/\/x" is not a broker URL/],
      [["watch", "--device", "a/b"], /--device "a\/b" is not a device id/],
      [["watch", "--duration", "soon"], /--duration "soon" is not a duration/],
      [["watch", "--ca", "/nonexistent/ca.pem"], /CA file \/nonexistent\/ca.pem: no such file/],
      [
        ["doctor", "--skip", "nothing"],
        /--skip nothing: no such check; checks: board, gpio, inputs, serial, clock, disk, outbox, files, broker, service/,
      ],
      [["test", "--for", "0s"], /--for "0s" is not a duration up to 7 days/],
      [["support", "--seconds", "0"], /--seconds "0": give a number of seconds from 1 to 600/],
      [["install", "--user", "Root!"], /--user "Root!" is not a user name/],
      [["provision", "--id", "x", "--board", "sim", "--input", "a=GPIOX"], /--input a=GPIOX: "GPIOX" is not a line/],
    ];
    for (const [args, want] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(want);
    }
  });
});
