import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";

/**
 * Signed commands (docs/delivery.md "Commands and signing"). Broker ACLs decide who may publish on
 * a device's command topics; a signature decides who may change it. A config change or restart
 * must carry an Ed25519 signature (RFC 8032, node:crypto) made with the private key whose public
 * half is provisioned on the device (`control.publicKeyFile`). The key never leaves the operator,
 * so a stolen broker password or a misconfigured ACL cannot reconfigure a fleet.
 *
 * Wire format, inside the command's JSON request:
 *   { "id": "...", "signed": base64(UTF-8 JSON body), "sig": base64(Ed25519 signature of those bytes) }
 * The body is signed as bytes, so no JSON canonicalisation is needed on either side:
 *   { "device": "pole-0042", "command": "config", "issuedAt": 1767600000000, "config": { … } }
 *
 * Replay protection: `issuedAt` (ms since epoch) must be later than the last signed command this
 * device accepted (kept in the state folder, so it survives restarts), and, when the device's clock
 * is synchronised, within `maxClockSkew` of it. The body names the device and the command, so a
 * command signed for one device or verb cannot be replayed to another.
 */
export interface SignedBody {
  device: string;
  command: string;
  issuedAt: number;
  [field: string]: unknown;
}

/** The last accepted `issuedAt`, kept across restarts. */
export interface ReplayStore {
  last(): number;
  accept(issuedAt: number): void;
}

export class MemoryReplayStore implements ReplayStore {
  private value = 0;
  last(): number {
    return this.value;
  }
  accept(issuedAt: number): void {
    this.value = issuedAt;
  }
}

/** A small JSON file in the state folder, replaced atomically (write, fsync, rename). */
export class FileReplayStore implements ReplayStore {
  private value: number | undefined;
  constructor(private readonly path: string) {}

  last(): number {
    if (this.value === undefined) {
      try {
        const v = (JSON.parse(readFileSync(this.path, "utf8")) as { lastIssuedAt?: unknown }).lastIssuedAt;
        this.value = typeof v === "number" && Number.isFinite(v) ? v : 0;
      } catch {
        this.value = 0;
      }
    }
    return this.value;
  }

  accept(issuedAt: number): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify({ lastIssuedAt: issuedAt }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.value = issuedAt;
  }
}

export type VerifyResult = { ok: true; body: SignedBody } | { ok: false; code: "unsigned" | "bad-signature" | "wrong-device" | "wrong-command" | "replayed" | "stale" | "malformed"; message: string };

export interface VerifierOptions {
  publicKey: KeyObject;
  deviceId: string;
  wallMs: () => number;
  synced: () => boolean;
  maxSkewMs: number;
  replay: ReplayStore;
}

const B64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export class CommandVerifier {
  constructor(private readonly opts: VerifierOptions) {}

  /**
   * Check a request's signature and freshness. On success the `issuedAt` is recorded at once, before
   * the command runs, so the same request can never run twice.
   */
  verify(command: string, request: Record<string, unknown>): VerifyResult {
    const { signed, sig } = request;
    if (typeof signed !== "string" || typeof sig !== "string") {
      return { ok: false, code: "unsigned", message: `${command} must be signed: send { "id", "signed": base64(JSON body), "sig": base64(Ed25519 signature) } (docs/delivery.md)` };
    }
    if (!B64.test(signed) || !B64.test(sig) || sig.length > 100) return { ok: false, code: "malformed", message: "signed and sig must be base64" };
    const data = Buffer.from(signed, "base64");
    const signature = Buffer.from(sig, "base64");
    let good = false;
    try {
      good = signature.length === 64 && verify(null, data, this.opts.publicKey, signature);
    } catch {
      good = false;
    }
    if (!good) return { ok: false, code: "bad-signature", message: "the signature does not match the device's public key (control.publicKeyFile)" };
    let body: unknown;
    try {
      body = JSON.parse(data.toString("utf8"));
    } catch {
      return { ok: false, code: "malformed", message: "the signed body is not JSON" };
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) return { ok: false, code: "malformed", message: "the signed body must be a JSON object" };
    const b = body as Record<string, unknown>;
    if (b["device"] !== this.opts.deviceId) return { ok: false, code: "wrong-device", message: `signed for device ${JSON.stringify(b["device"])}, this is ${this.opts.deviceId}` };
    if (b["command"] !== command) return { ok: false, code: "wrong-command", message: `signed for command ${JSON.stringify(b["command"])}, received on ${command}` };
    const issuedAt = b["issuedAt"];
    if (typeof issuedAt !== "number" || !Number.isSafeInteger(issuedAt) || issuedAt <= 0) {
      return { ok: false, code: "malformed", message: "issuedAt must be ms since the epoch (an integer)" };
    }
    if (issuedAt <= this.opts.replay.last()) {
      return { ok: false, code: "replayed", message: `issuedAt ${issuedAt} is not later than the last accepted signed command (${this.opts.replay.last()}); sign a new command` };
    }
    if (this.opts.synced()) {
      const skew = Math.abs(this.opts.wallMs() - issuedAt);
      if (skew > this.opts.maxSkewMs) {
        return { ok: false, code: "stale", message: `issuedAt is ${Math.round(skew / 1000)} s away from the device's clock (limit ${Math.round(this.opts.maxSkewMs / 1000)} s); sign a fresh command` };
      }
    }
    this.opts.replay.accept(issuedAt);
    return { ok: true, body: b as SignedBody };
  }
}

/** Read an Ed25519 public key (PEM). Throws with the file named and the fix. */
export function loadPublicKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(path));
  } catch (err) {
    throw new Error(`control.publicKeyFile: cannot read an Ed25519 public key from ${path} (${(err as Error).message}); make one with \`openssl genpkey -algorithm ed25519 -out cmd.key && openssl pkey -in cmd.key -pubout -out cmd.pub\``);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`control.publicKeyFile: ${path} holds a ${key.asymmetricKeyType ?? "unknown"} key; commands are signed with Ed25519 (openssl genpkey -algorithm ed25519)`);
  }
  return key;
}

/** Sign a command body (for operators' tools and tests). */
export function signCommand(privateKey: KeyObject | string | Buffer, body: SignedBody): { signed: string; sig: string } {
  const key = typeof privateKey === "string" || Buffer.isBuffer(privateKey) ? createPrivateKey(privateKey) : privateKey;
  const data = Buffer.from(JSON.stringify(body), "utf8");
  return { signed: data.toString("base64"), sig: sign(null, data, key).toString("base64") };
}
