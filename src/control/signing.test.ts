import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../log/logger.js";
import { openOutbox } from "../outbox/open.js";
import { CommandVerifier, DeviceReplayStore, FileReplayStore, loadPublicKey, MemoryReplayStore, signCommand } from "./signing.js";
import type { ReplayStore } from "./signing.js";

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);

function verifier(synced = true, replay: ReplayStore = new MemoryReplayStore()) {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKey,
    v: new CommandVerifier({ publicKey, deviceId: "pole-1", wallMs: () => NOW, synced: () => synced, maxSkewMs: 600_000, replay }),
  };
}

describe("signed commands (Ed25519)", () => {
  it("accepts a fresh, correctly signed command once", () => {
    const { privateKey, v } = verifier();
    const req = signCommand(privateKey, { device: "pole-1", command: "restart", issuedAt: NOW });
    expect(v.verify("restart", req)).toMatchObject({ ok: true, body: { device: "pole-1", issuedAt: NOW } });
    expect(v.verify("restart", req)).toMatchObject({ ok: false, code: "replayed" });
  });

  it("refuses stale commands only when the device clock can be trusted", () => {
    const a = verifier(true);
    expect(
      a.v.verify("restart", signCommand(a.privateKey, { device: "pole-1", command: "restart", issuedAt: NOW - 3_600_000 })),
    ).toMatchObject({ ok: false, code: "stale" });
    const b = verifier(false);
    expect(b.v.verify("restart", signCommand(b.privateKey, { device: "pole-1", command: "restart", issuedAt: NOW - 3_600_000 })).ok).toBe(
      true,
    );
  });

  it("never throws on garbage", () => {
    const { v } = verifier();
    for (const req of [
      {},
      { signed: 1, sig: 2 },
      { signed: "", sig: "" },
      { signed: "@@", sig: "AA==" },
      { signed: "e30=", sig: "A".repeat(88) },
      { signed: "bnVsbA==", sig: Buffer.alloc(64).toString("base64") },
    ]) {
      const r = v.verify("config", req as Record<string, unknown>);
      expect(r.ok).toBe(false);
    }
  });

  it("keeps the last accepted issuedAt across restarts in a private file", () => {
    const path = join(mkdtempSync(join(tmpdir(), "roadside-replay-")), "control.json");
    const store = new FileReplayStore(path);
    const { privateKey, v } = verifier(true, store);
    expect(v.verify("restart", signCommand(privateKey, { device: "pole-1", command: "restart", issuedAt: NOW })).ok).toBe(true);
    expect(new FileReplayStore(path).last()).toBe(NOW);
    expect(statSync(path).mode & 0o077).toBe(0);
  });

  it("loads only Ed25519 public keys, with the fix in the error", () => {
    const dir = mkdtempSync(join(tmpdir(), "roadside-keys-"));
    const ed = join(dir, "ed.pub");
    writeFileSync(ed, generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }));
    expect(loadPublicKey(ed).asymmetricKeyType).toBe("ed25519");
    const rsa = join(dir, "rsa.pub");
    writeFileSync(rsa, generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }));
    expect(() => loadPublicKey(rsa)).toThrow(/rsa key; commands are signed with Ed25519/);
    expect(() => loadPublicKey(join(dir, "missing.pub"))).toThrow(/openssl genpkey -algorithm ed25519/);
  });

  it.skipIf(spawnSync("openssl", ["version"]).status !== 0)(
    "the openssl CLI recipe of docs/delivery.md makes commands the device accepts",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "roadside-openssl-"));
      const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
      run(["genpkey", "-algorithm", "ed25519", "-out", "cmd.key"]);
      run(["pkey", "-in", "cmd.key", "-pubout", "-out", "cmd.pub"]);
      writeFileSync(join(dir, "body.json"), JSON.stringify({ device: "pole-1", command: "restart", issuedAt: NOW }));
      run(["pkeyutl", "-sign", "-inkey", "cmd.key", "-rawin", "-in", "body.json", "-out", "body.sig"]);
      const req = {
        id: "r1",
        signed: readFileSync(join(dir, "body.json")).toString("base64"),
        sig: readFileSync(join(dir, "body.sig")).toString("base64"),
      };
      const v = new CommandVerifier({
        publicKey: loadPublicKey(join(dir, "cmd.pub")),
        deviceId: "pole-1",
        wallMs: () => NOW,
        synced: () => true,
        maxSkewMs: 600_000,
        replay: new MemoryReplayStore(),
      });
      expect(v.verify("restart", req)).toMatchObject({ ok: true });
    },
  );
});

describe("replay protection without the wall clock or the control.json file (issue 12)", () => {
  const tmpDir = (): string => mkdtempSync(join(tmpdir(), "roadside-replay-"));
  function device(dir: string, keys: { privateKey: KeyObject; publicKey: KeyObject }) {
    const { outbox } = openOutbox({ path: join(dir, "outbox.db"), now: () => 5000, logger: silentLogger }); // a Pi without RTC: 1970
    const store = new DeviceReplayStore(outbox, new FileReplayStore(join(dir, "control.json")));
    // unsynced: the time check is off, as after every boot without RTC
    const v = new CommandVerifier({
      publicKey: keys.publicKey,
      deviceId: "pole-1",
      wallMs: () => 5000,
      synced: () => false,
      maxSkewMs: 600_000,
      replay: store,
    });
    return { outbox, v };
  }
  const restart = (k: { privateKey: KeyObject }) => signCommand(k.privateKey, { device: "pole-1", command: "restart", issuedAt: NOW });

  it("a captured command replayed after control.json was deleted, while unsynced, is refused (the counter is in the outbox)", () => {
    const dir = tmpDir();
    const keys = generateKeyPairSync("ed25519");
    const a = device(dir, keys);
    const captured = restart(keys);
    expect(a.v.verify("restart", captured).ok).toBe(true);
    a.outbox.close();
    rmSync(join(dir, "control.json"));
    const b = device(dir, keys); // restarted
    expect(b.v.verify("restart", captured)).toMatchObject({ ok: false, code: "replayed" });
    b.outbox.close();
  });

  it("with the outbox damaged beyond salvage and control.json gone, nonce-less commands are refused (fail closed) and health says so; nonce-bound ones work", () => {
    const dir = tmpDir();
    const keys = generateKeyPairSync("ed25519");
    const a = device(dir, keys);
    const captured = restart(keys);
    expect(a.v.verify("restart", captured).ok).toBe(true);
    a.outbox.close();
    rmSync(join(dir, "control.json"));
    for (const s of ["", "-wal", "-shm"]) rmSync(join(dir, `outbox.db${s}`), { force: true });
    writeFileSync(join(dir, "outbox.db"), Buffer.alloc(8192, 0x5a));
    const b = device(dir, keys);
    expect(b.v.status().counter).toMatch(
      /^unknown, nonce-less signed commands are refused: the outbox that kept the signed-command counter was replaced after damage, and .*control\.json is missing$/,
    );
    expect(b.v.verify("restart", captured)).toMatchObject({ ok: false, code: "replay-unknown" });
    // the operator reads the nonce from health and signs with it
    const nonce = b.v.status().nonce;
    const bound = signCommand(keys.privateKey, { device: "pole-1", command: "restart", issuedAt: NOW + 1, nonce });
    expect(b.v.verify("restart", bound).ok).toBe(true);
    // the nonce changed: the bound command cannot be replayed, and the counter is known again
    expect(b.v.status().nonce).not.toBe(nonce);
    expect(b.v.verify("restart", bound)).toMatchObject({ ok: false, code: "replayed" });
    expect(b.v.status().counter).toBe("ok");
    expect(b.v.verify("restart", captured)).toMatchObject({ ok: false, code: "replayed" });
    b.outbox.close();
  });

  it("an unreadable control.json is not read as zero", () => {
    const dir = tmpDir();
    writeFileSync(join(dir, "control.json"), "{not json");
    const store = new FileReplayStore(join(dir, "control.json"));
    expect(store.last()).toBeUndefined();
    expect(store.problem()).toMatch(/does not hold a counter/);
  });

  it("a nonce-bound command does not survive a restart: every start makes a new nonce", () => {
    const dir = tmpDir();
    const keys = generateKeyPairSync("ed25519");
    const a = device(dir, keys);
    const bound = signCommand(keys.privateKey, { device: "pole-1", command: "restart", issuedAt: 1, nonce: a.v.nonce });
    a.outbox.close();
    const b = device(dir, keys);
    expect(b.v.verify("restart", bound)).toMatchObject({ ok: false, code: "replayed" });
    b.outbox.close();
  });
});
