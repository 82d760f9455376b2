import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { signCommand } from "../../src/control/signing.js";
import type { DecodedMessage } from "../../src/publish/envelope.js";
import { decodeMessage } from "../../src/publish/envelope.js";
import { Rng } from "../../src/sim/rng.js";
import type { Mosquitto, Received } from "../helpers/brokers.js";
import { startMosquitto, subscribe } from "../helpers/brokers.js";
import { MaxbotixFeeder } from "./feeder.js";
import type { OutboxSnapshot } from "./outbox-snapshot.js";
import { readOutboxFromDisk } from "./outbox-snapshot.js";
import type { Bundle } from "./seed.js";
import { buildBundle, derivedBundle, provisionSeed, writeImagerFiles } from "./seed.js";
import type { VmImage } from "./vm.js";
import { buildImage, listSeed, makeSeedImage, makeSshKey, REPO, Vm } from "./vm.js";

/**
 * The appliance on a virtual device (issue 11; docs/virtual-device.md): a Debian bookworm VM that
 * boots from a seed disk written by `roadside provision --seed`, installs roadside from the offline
 * bundle at first boot with nobody logged in, and publishes to a Mosquitto on the host. One guest
 * serves the whole file, in order: each test starts from the state the previous one left, as a
 * device in the field would.
 */

const DEVICE = "vm-0001";
const PREFIX = "roadside";
const BASE = `${PREFIX}/${DEVICE}`;
const USER = "tech";
const MOUNT_MM = 2400;
const FEED_RANGE_MM = 1234;
const SEED = Number(process.env["ROADSIDE_DEVICE_SEED"] ?? Date.now() % 100_000);
const POWER_CUTS = Number(process.env["ROADSIDE_DEVICE_POWER_CUTS"] ?? 10);
// each cut is a cold boot under TCG (about 2 minutes in CI: 10 cuts took 20 min there), so the bound
// grows with the cuts asked for; each wait inside the test is bounded on its own as well
const CUT_TEST_TIMEOUT_MS = (10 + 4 * POWER_CUTS) * 60_000;
const WINDOW_S = 10;

const figures: Record<string, string | number> = {};
const note = (k: string, v: string | number): void => {
  figures[k] = v;
  process.stdout.write(`[device] ${k}: ${v}\n`);
};

interface Seen {
  at: number;
  topic: string;
  payload: Buffer;
  msg: DecodedMessage;
}

const DATA = /\/(traffic|level|bin|presence|alarm)\/[^/]+$/;

describe("the appliance on a virtual device (QEMU, Debian bookworm, systemd, cloud-init)", () => {
  let work: string;
  let image: VmImage;
  let mosq: Mosquitto;
  let sub: Awaited<ReturnType<typeof subscribe>>;
  let vm: Vm;
  let feeder: MaxbotixFeeder;
  let bundle: Bundle;
  let controlKey: KeyObject;
  let seedImage: string;
  let issued = 0;
  let op: { client: MqttClient; replies: { topic: string; body: Record<string, unknown> }[] };
  const seen: Seen[] = [];
  /** Data messages seen so far (decoded; status, manifest, health and replies are not data). */
  const data = (): Seen[] => {
    for (let i = seen.length; i < sub.messages.length; i++) {
      const m = sub.messages[i] as Received;
      seen.push({
        at: Date.now(),
        topic: m.topic,
        payload: m.payload,
        msg: DATA.test(m.topic) ? decodeMessage(m.payload) : (undefined as unknown as DecodedMessage),
      });
    }
    return seen.filter((s) => s.msg !== undefined);
  };
  const waitData = async (what: string, pred: (s: Seen) => boolean, timeoutMs: number): Promise<Seen> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = data().find(pred);
      if (hit) return hit;
      if (Date.now() > end) {
        const guest = vm?.running
          ? vm.sshRaw("sudo systemctl status roadside --no-pager -n 30; sudo tail -n 30 /var/log/roadside-firstboot.log", 30_000)
          : undefined;
        throw new Error(
          `${what}: nothing within ${timeoutMs / 1000} s (${data().length} data messages so far)\n--- guest ---\n${guest ? guest.stdout + guest.stderr : "(not running)"}\n--- console ---\n${vm?.consoleTail(30)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const maxSeq = (): number => Math.max(0, ...data().map((s) => s.msg.seq));
  const service = (prop: string): string => vm.ssh(`systemctl show -p ${prop} --value roadside`).trim();

  const ask = async (command: string, body: Record<string, unknown>, timeoutMs = 180_000): Promise<Record<string, unknown>> => {
    const id = `op-${++issued}`;
    op.client.publish(`${BASE}/cmd/${command}`, JSON.stringify({ id, ...body }), { qos: 1 });
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = op.replies.find((x) => x.body["id"] === id);
      if (r) return r.body;
      if (Date.now() > end)
        throw new Error(
          `no reply to ${command} ${id} within ${timeoutMs / 1000} s\n--- the service's log this boot, summaries left out ---\n${
            vm.sshRaw("sudo journalctl -u roadside -b --no-pager -o short-monotonic | grep -v ' seq [0-9]*: ' | tail -n 80").stdout
          }`,
        );
      await new Promise((res) => setTimeout(res, 300));
    }
  };
  const signed = (command: string, extra: Record<string, unknown>): Record<string, unknown> =>
    signCommand(controlKey, { device: DEVICE, command, issuedAt: Date.now() + issued, ...extra });

  beforeAll(async () => {
    process.stdout.write(`[device] seed ${SEED} (rerun with ROADSIDE_DEVICE_SEED=${SEED})\n`);
    work = mkdtempSync(join(process.env["ROADSIDE_DEVICE_WORK"] ?? tmpdir(), "roadside-device-"));
    const t0 = Date.now();
    image = buildImage();
    note(
      "image build time (s)",
      image.cached ? `${image.buildSeconds} (cached; this run ${Math.round((Date.now() - t0) / 1000)} s)` : image.buildSeconds,
    );

    mosq = await startMosquitto({ listenerLines: ["allow_anonymous true"], extraConfig: [] });
    // a persistent session: nothing published while the test is busy elsewhere is missed
    sub = await subscribe(mosq.url, `${BASE}/#`, {
      clientId: "device-test-sub",
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 86_400 },
    });
    const client = mqtt.connect(mosq.url, { protocolVersion: 5 });
    const replies: { topic: string; body: Record<string, unknown> }[] = [];
    client.on("message", (topic, payload) => replies.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
    await new Promise<void>((res, rej) => {
      client.once("connect", () => client.subscribe(`${BASE}/cmd/+/reply`, { qos: 1 }, (e) => (e ? rej(e) : res())));
      client.once("error", rej);
    });
    op = { client, replies };

    const t1 = Date.now();
    bundle = buildBundle(join(work, "bundle"));
    note(
      "x64 bundle",
      `${bundle.name}.tar.gz, ${(bundle.sizeBytes / 1e6).toFixed(1)} MB, built in ${Math.round((Date.now() - t1) / 1000)} s`,
    );

    // the technician's card: Imager's files, then roadside provision --seed
    const key = makeSshKey(work);
    const boot = join(work, "bootfs");
    writeImagerFiles(boot, { name: USER, sshPub: key.pub }, "roadside-vm");
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    controlKey = privateKey;
    const pubFile = join(work, "control.pub");
    writeFileSync(pubFile, publicKey.export({ type: "spki", format: "pem" }));
    provisionSeed({
      seedDir: boot,
      bundle,
      id: DEVICE,
      board: "virtual-device",
      args: [
        "--broker",
        `mqtt://10.0.2.2:${mosq.port}`,
        "--window",
        `${WINDOW_S}s`,
        "--lane",
        "lane1=GPIO17,GPIO27",
        "--set",
        "sim.traffic.lane1.vehiclesPerHour=1200",
        "--manhole",
        `mh1=ttyS1,mount=${MOUNT_MM},overflow=1500,window=${WINDOW_S}s`,
        "--set",
        "manholes.mh1.sampling={dry: 5s, fast: 5s}",
        "--control-key",
        pubFile,
        "--set",
        "control.applyTimeout=30s",
      ],
    });
    seedImage = join(work, "bootfs.img");
    makeSeedImage(boot, seedImage);
    process.stdout.write(`[device] seed disk:\n${listSeed(seedImage)}`);

    vm = new Vm({ image, dir: join(work, "vm"), seedImage, key, user: USER });
    feeder = new MaxbotixFeeder(vm.serialSocket, FEED_RANGE_MM);
    feeder.start();
  });

  afterAll(async () => {
    feeder?.stop();
    if (vm?.running) {
      process.stdout.write(`[device] last console lines:\n${vm.consoleTail(15)}\n`);
      await vm.stop();
    }
    op?.client.end(true);
    await sub?.close();
    await mosq?.stop();
    process.stdout.write(`[device] figures: ${JSON.stringify(figures, null, 2)}\n`);
    mkdirSync(join(REPO, "test-results"), { recursive: true });
    writeFileSync(join(REPO, "test-results/device-figures.json"), `${JSON.stringify({ seed: SEED, ...figures }, null, 2)}\n`);
    if (work && !process.env["ROADSIDE_DEVICE_KEEP"]) rmSync(work, { recursive: true, force: true });
  });

  it("1. first boot: installs itself from the seed card and publishes to the host's broker, nobody logged in", async () => {
    const t0 = Date.now();
    await vm.start();
    note("accelerator", vm.accel);
    // no ssh here: the device must come up by itself
    const first = await waitData("the first summary from the device", () => true, 25 * 60_000);
    note("boot to first summary (s)", Math.round((first.at - t0) / 1000));
    await vm.waitSsh();
    expect(vm.ssh("systemctl is-active roadside").trim()).toBe("active");
    expect(vm.ssh("systemctl is-enabled roadside").trim()).toBe("enabled");
    // Imager's own runcmd ran too: provision merged into user-data, it did not replace it
    expect(vm.ssh("cat /var/tmp/imager-runcmd").trim()).toBe("imager-runcmd-ran");
    expect(vm.ssh("sudo stat -c '%U:%G %a' /etc/roadside/device.yaml").trim()).toBe("root:roadside 640");
    expect(vm.ssh("sudo stat -c '%U:%G %a' /etc/roadside").trim()).toBe("root:roadside 770");
    expect(vm.ssh("findmnt -n -o FSTYPE,LABEL /boot/firmware").trim()).toMatch(/vfat\s+bootfs/);
    expect(vm.ssh("id -nG roadside")).toMatch(/dialout/);
    // Node 20 came in the bundle: bookworm's own nodejs (18) is not installed
    expect(vm.sshRaw("dpkg -s nodejs").status).not.toBe(0);
    expect(vm.ssh("roadside --version")).toMatch(/0\.|\d+\.\d+/);
    note("guest ssh ready after first summary (s)", Math.round((Date.now() - first.at) / 1000));
  });

  it("2. doctor passes as the service user; the host-fed serial sensor is read through ttyS1", async () => {
    // as docs/field-guide.md says: the service holds the lines and the serial port, so stop it for doctor
    vm.ssh("sudo systemctl stop roadside", 180_000);
    const r = vm.sshRaw("sudo runuser -u roadside -- roadside doctor -c /etc/roadside/device.yaml", 600_000);
    vm.ssh("sudo systemctl start roadside", 300_000);
    process.stdout.write(`[device] doctor:\n${r.stdout}${r.stderr}\n`);
    const failed = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("✗"))
      .map((l) => l.slice(1).trim().split(/\s+/)[0]);
    // the virtual device has no time source, by design (test 5 needs a clock that stays wrong), and
    // doctor fails an unsynchronised clock: that check, and only that one, may fail here
    expect(
      failed.filter((l) => l !== "clock"),
      r.stdout,
    ).toEqual([]);
    if (failed.includes("clock")) expect(r.stdout).toMatch(/✗ clock\s+not synchronised/);
    expect(r.status, r.stdout + r.stderr).toBe(failed.length === 0 ? 0 : 1);
    // the serial sensor: frames parsed from the host feeder, read through the guest's ttyS1
    expect(r.stdout).toMatch(/✓ serial\s+manholes\.mh1.*ttyS1.*frames/);
    const level = await waitData(
      "a level summary from the fed sensor",
      (s) => s.msg.kind === "level" && (s.msg.measures["samples"]?.v ?? 0) > 0,
      120_000,
    );
    const depthM = (MOUNT_MM - FEED_RANGE_MM) / 1000;
    expect(level.msg.measures["depthMean"]?.v).toBeCloseTo(depthM, 3);
    expect(level.msg.measures["depthMin"]?.v).toBeCloseTo(depthM, 3);
    expect(feeder.frames).toBeGreaterThan(0);
  });

  it("3. a signed config command is applied, saved, survives a reboot; a broken one rolls back", async () => {
    const text = vm.ssh("sudo cat /etc/roadside/device.yaml");
    const config = parseYaml(text) as Record<string, Record<string, Record<string, unknown>>>;
    const newMount = MOUNT_MM + 100;
    config["manholes"]!["mh1"]!["mountHeightMm"] = newMount;
    (config["device"] as Record<string, unknown>)["site"] = "virtual device, config applied remotely";
    const good = await ask("config", signed("config", { config }));
    expect(good["ok"], JSON.stringify(good)).toBe(true);
    const saved = parseYaml(vm.ssh("sudo cat /etc/roadside/device.yaml")) as typeof config;
    expect(saved["manholes"]!["mh1"]!["mountHeightMm"]).toBe(newMount);
    expect(vm.ssh("sudo test -f /etc/roadside/device.yaml.prev && echo yes").trim()).toBe("yes");
    const depthM = (newMount - FEED_RANGE_MM) / 1000;
    const applied = maxSeq();
    await waitData(
      "a level summary with the new mount height",
      (s) => s.msg.kind === "level" && s.msg.seq > applied && Math.abs((s.msg.measures["depthMean"]?.v ?? 0) - depthM) < 0.0005,
      120_000,
    );

    // a clean reboot: the saved config runs again and numbering continues
    const before = maxSeq();
    await vm.reboot();
    // the first level summary with a depth after the reboot (the windows the shutdown closed early may hold no sample)
    const after = await waitData(
      "a level summary with a depth after the reboot",
      (s) => s.msg.kind === "level" && s.msg.seq > before && s.msg.measures["depthMean"] !== undefined,
      600_000,
    );
    expect(after.msg.measures["depthMean"]?.v).toBeCloseTo(depthM, 3);

    // broken: a broker that refuses every connection cannot come up; the device goes back
    const hash = vm.ssh("sudo sha256sum /etc/roadside/device.yaml");
    const broken = structuredClone(config);
    (broken as unknown as { mqtt: { url: string } }).mqtt.url = "mqtt://10.0.2.2:1";
    const bad = await ask("config", signed("config", { config: broken }), 300_000);
    expect(bad["ok"]).toBe(false);
    expect((bad["error"] as { code: string }).code).toBe("rolled-back");
    expect(vm.ssh("sudo sha256sum /etc/roadside/device.yaml")).toBe(hash);
    const rolled = maxSeq();
    await waitData("data after the rollback", (s) => s.msg.seq > rolled, 120_000);
  });

  it(
    `4. reboot keeps numbering; ${POWER_CUTS} power cuts (some during window commits) lose nothing committed`,
    async () => {
      const rng = new Rng(SEED);
      const snapshots: { cut: number; snap: OutboxSnapshot | undefined; maxSeenBefore: number }[] = [];
      for (let cut = 1; cut <= POWER_CUTS; cut++) {
        // the service is up and publishing
        const up = maxSeq();
        await waitData(`cut ${cut}: data before the cut`, (s) => s.msg.seq > up, 180_000);
        // half of the cuts land within a second of a window boundary, where the outbox commits
        const nowMs = Date.now();
        const boundary = Math.ceil(nowMs / (WINDOW_S * 1000)) * WINDOW_S * 1000;
        const atCommit = rng.chance(0.5);
        const at = atCommit ? boundary + rng.int(-200, 800) : nowMs + rng.int(0, WINDOW_S * 2000);
        await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
        await vm.powerCut();
        const maxSeenBefore = maxSeq();
        const snap = readOutboxFromDisk(vm.overlay, join(work, "snap"));
        snapshots.push({ cut, snap, maxSeenBefore });
        process.stdout.write(
          `[device] power cut ${cut} at ${atCommit ? `window boundary ${at - boundary >= 0 ? "+" : ""}${at - boundary} ms` : "a random moment"}: ${snap ? `outbox on disk: ${snap.waiting.size} waiting, next seq ${snap.nextSeq}, ${snap.integrity}` : "no outbox on disk yet"}; highest seq received ${maxSeenBefore}\n`,
        );
        if (snap) expect(snap.integrity).toBe("ok");
        await vm.start();
        // after the boot: the outbox opens and the service runs and publishes new windows
        await waitData(
          `cut ${cut}: new data after the boot`,
          (s) => s.msg.seq > Math.max(maxSeenBefore, (snap?.nextSeq ?? 1) - 1),
          600_000,
        );
        await vm.waitSsh();
        expect(vm.ssh("systemctl is-active roadside").trim()).toBe("active");
        const journal = vm.ssh("sudo journalctl -u roadside -b --no-pager -o cat");
        expect(journal).not.toMatch(/outbox .* was damaged/);
      }
      note("power cuts survived", POWER_CUTS);

      // let the backlog drain, then: every number arrived, each with one content, and every message
      // the disk held at a cut arrived with the very bytes it had there
      const last = maxSeq();
      await waitData("data after the last cut", (s) => s.msg.seq > last + 2, 180_000);
      const bySeq = new Map<number, Buffer>();
      for (const s of data()) {
        const had = bySeq.get(s.msg.seq);
        if (had) expect(had.equals(s.payload), `seq ${s.msg.seq} arrived with two different contents`).toBe(true);
        else bySeq.set(s.msg.seq, s.payload);
      }
      const top = maxSeq();
      const missing: number[] = [];
      for (let q = 1; q <= top; q++) if (!bySeq.has(q)) missing.push(q);
      expect(missing, `sequence numbers never received (seed ${SEED})`).toEqual([]);
      for (const { cut, snap } of snapshots) {
        for (const [q, payload] of snap?.waiting ?? []) {
          expect(
            bySeq.get(q)?.equals(payload),
            `cut ${cut}: seq ${q} was on disk at the cut but arrived differently or not at all (seed ${SEED})`,
          ).toBe(true);
        }
      }
      note("messages received (seq 1..N)", top);
    },
    CUT_TEST_TIMEOUT_MS,
  );

  it("5. a guest clock far wrong, then corrected: windows flagged, nothing lost or counted twice", async () => {
    await vm.powerCut();
    // the windows the outbox held at the cut were stamped with the right clock and go out after the
    // boot: the first window stamped with the wrong clock numbers past them
    const snap = readOutboxFromDisk(vm.overlay, join(work, "snap"));
    const received = maxSeq();
    const before = Math.max(received, (snap?.nextSeq ?? 1) - 1);
    process.stdout.write(
      `[device] clock test cut: ${snap ? `outbox on disk: ${snap.waiting.size} waiting, next seq ${snap.nextSeq}` : "no outbox on disk"}; highest seq received ${received}\n`,
    );
    // a Pi with no RTC and no network time: the clock starts years behind (systemd lifts it to its
    // own build date at most); the image has no NTP client
    await vm.start({ rtcBase: "2021-03-01T00:00:00" });
    const wrong = await waitData("data with the wrong clock", (s) => s.msg.seq > before, 600_000);
    await vm.waitSsh();
    const guestNow = Number(vm.ssh("date +%s").trim()) * 1000;
    expect(Date.now() - guestNow).toBeGreaterThan(86_400_000);
    expect(wrong.msg.windowStartMs).toBeLessThan(Date.now() - 86_400_000);
    expect(wrong.msg.timeq).not.toBe("synced");
    const beforeFix = maxSeq();
    const pid = service("MainPID");
    vm.ssh(`sudo date -u -s @${Math.round(Date.now() / 1000)}`);
    const corrected = await waitData(
      "a window stamped with the corrected clock",
      (s) => s.msg.seq > beforeFix && Math.abs(s.msg.windowStartMs - Date.now()) < 3_600_000,
      180_000,
    );
    // the window the step cut short (and the one it opened) are flagged jump; under emulation they
    // may reach the broker after the first window stamped with the new time, so wait for them
    await waitData("a window flagged jump by the clock step", (s) => s.msg.seq > beforeFix && s.msg.timeq === "jump", 120_000);
    const jump = data().filter((s) => s.msg.seq > beforeFix && s.msg.timeq === "jump");
    // nothing lost or counted twice: no stream has two windows starting at the same time, and the
    // observed seconds of each stream add up to the time the service ran (one window of slack at
    // each end of the run)
    await waitData("two more windows", (s) => s.msg.seq > corrected.msg.seq + 4, 180_000);
    const run = data().filter((s) => s.msg.seq > before);
    for (const stream of new Set(run.map((s) => `${s.msg.kind}/${s.msg.stream}`))) {
      const ws = run.filter((s) => `${s.msg.kind}/${s.msg.stream}` === stream);
      const starts = ws.map((s) => s.msg.windowStartMs);
      expect(new Set(starts).size, `${stream}: a window start repeats`).toBe(starts.length);
    }
    // the step cost no restart (a watchdog kill would lose the open windows)
    expect(service("MainPID"), "roadside was restarted after the clock step").toBe(pid);
    // and every number from the cut on arrived: the backlog stamped with the right clock too
    const seqs = new Set(data().map((s) => s.msg.seq));
    const missing: number[] = [];
    for (let q = received + 1; q <= maxSeq(); q++) if (!seqs.has(q)) missing.push(q);
    expect(missing, `sequence numbers never received (seed ${SEED})`).toEqual([]);
    note("clock test: windows flagged jump", jump.length);
  });

  it("6. upgrade to a new bundle; a broken bundle rolls back by itself; a hung process is restarted by the watchdog", async () => {
    const next = derivedBundle(bundle, join(work, "upgrade"), `${bundle.version}-vm.1`, false);
    const broken = derivedBundle(bundle, join(work, "upgrade"), `${bundle.version}-vm.2`, true);
    const install = (b: Bundle): { status: number | null; out: string } => {
      vm.scp(b.tarball, "/tmp/");
      vm.scp(b.sha256, "/tmp/");
      const file = `/tmp/${b.name}.tar.gz`;
      // as the field guide says: the new bundle's own install.sh
      const r = vm.sshRaw(
        `cd /tmp && tar -xzf ${file} ${b.name}/scripts/install.sh && sudo ./${b.name}/scripts/install.sh --bundle ${file}`,
        900_000,
      );
      return { status: r.status, out: r.stdout + r.stderr };
    };
    const up = install(next);
    expect(up.status, up.out).toBe(0);
    expect(vm.ssh("readlink -f /opt/roadside/current")).toContain(next.name);
    expect(vm.ssh("roadside --version")).toContain(next.version);
    expect(vm.ssh("systemctl is-active roadside").trim()).toBe("active");
    const upSeq = maxSeq();
    await waitData("data from the upgraded release", (s) => s.msg.seq > upSeq, 180_000);

    const pidBefore = service("MainPID");
    const bad = install(broken);
    expect(bad.status, bad.out).not.toBe(0);
    expect(bad.out).toMatch(/roll/i);
    expect(vm.ssh("readlink -f /opt/roadside/current")).toContain(next.name);
    expect(vm.ssh("systemctl is-active roadside").trim()).toBe("active");
    expect(service("MainPID")).not.toBe(pidBefore);
    const badSeq = maxSeq();
    await waitData("data after the rollback", (s) => s.msg.seq > badSeq, 180_000);

    // a hung event loop: SIGSTOP the main process; the watchdog (WatchdogSec) must kill and restart it
    const pid = service("MainPID");
    const restarts = Number(service("NRestarts"));
    vm.ssh(`sudo kill -STOP ${pid}`);
    const t0 = Date.now();
    await vm.waitFor(
      "the watchdog restarts the hung service",
      `test "$(systemctl show -p MainPID --value roadside)" != "${pid}" && test "$(systemctl show -p NRestarts --value roadside)" -gt ${restarts} && systemctl is-active roadside`,
      240_000,
    );
    note("watchdog restart after SIGSTOP (s)", Math.round((Date.now() - t0) / 1000));
    expect(vm.ssh(`sudo journalctl -u roadside --since "-5min" --no-pager -o cat`)).toMatch(/[Ww]atchdog/);
    const wdSeq = maxSeq();
    await waitData("data after the watchdog restart", (s) => s.msg.seq > wdSeq, 240_000);
  });
});
