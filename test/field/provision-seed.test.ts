import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli } from "../helpers/cli.js";
import { fakeBundle, IMAGER, imagerCard } from "./provision-card.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "roadside-seed-"));

/** Every file under `root`, path → bytes. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p).toString("base64"));
    }
  };
  walk(root);
  return out;
}

const cwd = join(dir, "work");
mkdirSync(cwd);
writeFileSync(join(cwd, "city-ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
writeFileSync(join(cwd, "broker.pw"), "hunter2\n");
writeFileSync(join(cwd, "cmd.pub"), "-----BEGIN PUBLIC KEY-----\nMCow\n-----END PUBLIC KEY-----\n");
const bundle = fakeBundle(join(dir, "bundle"));

function provision(args: string[]): ReturnType<typeof runCli> {
  return runCli(["provision", ...args], {}).then((r) => r);
}

const BASE = [
  "--id",
  "pole-0042",
  "--board",
  "raspberry-pi-4",
  "--manhole",
  "mh1=serial0,mount=2400,overflow=1500,cover=GPIO17",
  "--broker",
  "mqtts://broker.city.example:8883",
];
const CREDS = [
  "--username",
  "pole-0042",
  "--password-file",
  join(cwd, "broker.pw"),
  "--ca",
  join(cwd, "city-ca.pem"),
  "--control-key",
  join(cwd, "cmd.pub"),
];

describe("roadside provision --seed", () => {
  it("writes the seed onto an Imager card, keeps Imager's files, and a re-run leaves every byte the same", async () => {
    const card = imagerCard(join(dir, "card1"));
    const before = snapshot(card);
    const r = await provision([...BASE, ...CREDS, "--seed", card, "--bundle", bundle]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `wrote the first-boot seed to ${card}: device pole-0042 on Raspberry Pi 4 Model B; no lanes; manholes mh1; broker mqtts://broker.city.example:8883`,
    );
    expect(r.stdout).toContain("secrets/broker.pw (mqtt.passwordFile; a secret: deleted from the card on first boot)");
    const after = snapshot(card);
    expect([...after.keys()].sort()).toEqual(
      [
        "cmdline.txt",
        "config.txt",
        "meta-data",
        "network-config",
        "user-data",
        "roadside/firstboot.sh",
        "roadside/roadside-0.1.0-linux-arm64-node20.tar.gz",
        "roadside/roadside-0.1.0-linux-arm64-node20.tar.gz.sha256",
        "roadside/etc/device.yaml",
        "roadside/etc/city-ca.pem",
        "roadside/etc/cmd.pub",
        "roadside/etc/secrets/broker.pw",
      ].sort(),
    );
    for (const f of ["cmdline.txt", "config.txt", "meta-data", "network-config"]) expect(after.get(f), f).toBe(before.get(f));
    expect(readFileSync(join(card, "roadside", "firstboot.sh"))).toEqual(readFileSync(join(ROOT, "scripts", "firstboot.sh")));
    expect(readFileSync(join(card, "roadside", "etc", "secrets", "broker.pw"), "utf8")).toBe("hunter2\n");

    // the config names its files where firstboot.sh puts them
    const config = parse(readFileSync(join(card, "roadside", "etc", "device.yaml"), "utf8")) as {
      mqtt: Record<string, unknown>;
      control: Record<string, unknown>;
    };
    expect(config.mqtt).toMatchObject({
      username: "pole-0042",
      passwordFile: "/etc/roadside/secrets/broker.pw",
      tls: { ca: "/etc/roadside/city-ca.pem" },
    });
    expect(config.control).toEqual({ publicKeyFile: "/etc/roadside/cmd.pub" });
    // valid for the device; on this machine the files it names are not there yet
    const v = await runCli(["validate", "--no-files", join(card, "roadside", "etc", "device.yaml")]);
    expect(v.code, v.stderr).toBe(0);
    const here = await runCli(["validate", join(card, "roadside", "etc", "device.yaml")]);
    expect(here.code).toBe(2);
    expect(here.stderr).toContain("cannot read /etc/roadside/secrets/broker.pw");

    // user-data: Imager's settings all there, one runcmd entry added
    const ud = parse(readFileSync(join(card, "user-data"), "utf8")) as Record<string, unknown>;
    const imager = parse(readFileSync(join(IMAGER, "user-data-2.0.3"), "utf8")) as Record<string, unknown>;
    expect({ ...ud, runcmd: undefined }).toEqual({ ...imager, runcmd: undefined });
    expect((ud["runcmd"] as unknown[]).length).toBe((imager["runcmd"] as unknown[]).length + 1);
    const schema = spawnSync("cloud-init", ["schema", "-c", join(card, "user-data")], { encoding: "utf8" });
    if (schema.error) throw new Error("cloud-init is not installed: apt-get install cloud-init");
    expect(schema.stdout + schema.stderr).toContain("Valid cloud-config");

    const again = await provision([...BASE, ...CREDS, "--seed", card, "--bundle", bundle]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain("copying"); // the same bundle is not copied again
    expect(snapshot(card)).toEqual(after);
  });

  it("on a card with no cloud-init files: user-data and meta-data are made; a new bundle replaces the old one; secrets no longer named are gone", async () => {
    const card = join(dir, "card2");
    mkdirSync(card);
    writeFileSync(join(card, "config.txt"), "\n");
    const first = await provision([...BASE, ...CREDS, "--seed", card, "--bundle", bundle]);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(join(card, "meta-data"), "utf8")).toMatch(/^instance-id: roadside-pole-0042-\d+\n$/);
    expect(readFileSync(join(card, "user-data"), "utf8")).toMatch(/^#cloud-config\nruncmd:\n/);
    const other = fakeBundle(join(dir, "bundle-armhf"), "arm", "v2");
    const second = await provision([...BASE, "--seed", card, "--bundle", other]);
    expect(second.code, second.stderr).toBe(0);
    expect(readdirSync(join(card, "roadside")).sort()).toEqual([
      "etc",
      "firstboot.sh",
      "roadside-0.1.0-linux-arm-node20.tar.gz",
      "roadside-0.1.0-linux-arm-node20.tar.gz.sha256",
    ]);
    expect(existsSync(join(card, "roadside", "etc", "secrets", "broker.pw"))).toBe(false);
  });

  it("refuses, writing nothing, a folder that is not a boot partition (unless --force), a damaged or foreign bundle, and user-data it cannot merge", async () => {
    const empty = join(dir, "not-a-card");
    mkdirSync(empty);
    const r = await provision([...BASE, "--seed", empty, "--bundle", bundle]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `--seed ${empty}: this does not look like a Raspberry Pi boot partition (no config.txt, cmdline.txt or user-data)`,
    );
    expect(readdirSync(empty)).toEqual([]);
    const forced = await provision([...BASE, "--seed", empty, "--bundle", bundle, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);

    const card = imagerCard(join(dir, "card3"));
    const damaged = join(dir, "damaged");
    mkdirSync(damaged);
    copyFileSync(bundle, join(damaged, "roadside-0.1.0-linux-arm64-node20.tar.gz"));
    writeFileSync(
      join(damaged, "roadside-0.1.0-linux-arm64-node20.tar.gz.sha256"),
      `${"0".repeat(64)}  roadside-0.1.0-linux-arm64-node20.tar.gz\n`,
    );
    const x64 = fakeBundle(join(dir, "bundle-x64"), "x64");
    const cases: [string[], RegExp][] = [
      [
        ["--bundle", join(damaged, "roadside-0.1.0-linux-arm64-node20.tar.gz")],
        /its sha256 does not match roadside-0\.1\.0-linux-arm64-node20\.tar\.gz\.sha256: the copy is damaged or incomplete/,
      ],
      [
        ["--bundle", x64],
        /roadside-0\.1\.0-linux-x64-node20\.tar\.gz is for x64, but raspberry-pi-4 runs arm64 or armhf; build one with scripts\/bundle\.sh --arch arm64/,
      ],
      [
        ["--bundle", join(dir, "nowhere.tar.gz")],
        /--bundle \S+nowhere\.tar\.gz: no such file; make one with scripts\/bundle\.sh --arch arm64/,
      ],
      [["--bundle", bundle, "--arch", "x64"], /--arch x64: raspberry-pi-4 runs arm64 or armhf/],
      [["--bundle", bundle, "-o", "x.yaml"], /--seed writes the config onto the card/],
    ];
    for (const [extra, want] of cases) {
      const res = await provision([...BASE, "--seed", card, ...extra]);
      expect(res.code, `${extra.join(" ")}: ${res.stderr}`).toBe(2);
      expect(res.stderr, extra.join(" ")).toMatch(want);
    }
    writeFileSync(join(card, "user-data"), "#!/bin/sh\necho hello\n");
    const script = await provision([...BASE, "--seed", card, "--bundle", bundle]);
    expect(script.code).toBe(2);
    expect(script.stderr).toContain(`${join(card, "user-data")} is a script, not a #cloud-config file`);
    expect(existsSync(join(card, "roadside"))).toBe(false);
    const bad = await provision(["--id", "p", "--board", "raspberry-pi-4", "--bundle", bundle]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--bundle goes with --seed DIR");
  });
});

describe("roadside provision --seed --interactive", () => {
  it("asks everything but where to write, and writes the seed", async () => {
    const card = imagerCard(join(dir, "card-asked"), "user-data-2.0.11");
    const answers = ["pole-5", "raspberry-pi-4", "", "0", "", "", "", "", "", "mqtt://10.0.2.2:1883", "", ""];
    const child = spawn(
      process.execPath,
      [join(ROOT, "bin", "roadside.js"), "provision", "--interactive", "--seed", card, "--bundle", bundle],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.stdin.end(answers.map((a) => `${a}\n`).join(""));
    const code = await new Promise((res) => child.on("exit", res));
    expect(code, out).toBe(0);
    expect(out).not.toContain("Write the config to");
    expect(out).toContain(`wrote the first-boot seed to ${card}: device pole-5 on Raspberry Pi 4 Model B`);
    expect(parse(readFileSync(join(card, "roadside", "etc", "device.yaml"), "utf8"))).toMatchObject({
      device: { id: "pole-5" },
      mqtt: { url: "mqtt://10.0.2.2:1883" },
    });
    expect(readFileSync(join(card, "user-data"), "utf8")).toContain("# added by hand after Imager: the city's NTP server");
  });
});

describe("roadside provision -o: files the config names are copied beside it", () => {
  it("public files 0640, secrets into secrets/ 0600, and the config names the copies", async () => {
    const out = join(dir, "etc-roadside", "device.yaml");
    const r = await provision([...BASE, ...CREDS, "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    const d = join(dir, "etc-roadside");
    expect(r.stdout).toContain(`copied mqtt.passwordFile: ${join(d, "secrets", "broker.pw")} (secret: owner only)`);
    const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
    expect([
      mode(out),
      mode(join(d, "city-ca.pem")),
      mode(join(d, "cmd.pub")),
      mode(join(d, "secrets")),
      mode(join(d, "secrets", "broker.pw")),
    ]).toEqual(["640", "640", "640", "750", "600"]);
    const config = parse(readFileSync(out, "utf8")) as { mqtt: Record<string, unknown> };
    expect(config.mqtt).toMatchObject({ passwordFile: join(d, "secrets", "broker.pw"), tls: { ca: join(d, "city-ca.pem") } });
    if (process.getuid?.() === 0) {
      // this machine has no user roadside: say what to do rather than leave a config the service cannot read
      expect(r.stderr).toMatch(
        /note: there is no group roadside on this machine yet, so the service could not read \S+device\.yaml: install roadside first/,
      );
    }
    const missing = await provision([...BASE, "--ca", join(cwd, "nope.pem"), "-o", join(dir, "x.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `--ca ${join(cwd, "nope.pem")} (mqtt.tls.ca): no such file; give the path of the broker's CA certificate (PEM)`,
    );
  });
});
