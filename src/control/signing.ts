import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from "node:crypto";

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
 * Replay protection, two ways, neither depending on the wall clock (a Pi without RTC boots unsynced):
 * - a body with `"nonce"` must carry the device's current nonce: random, made at start and replaced
 *   after every accepted signed command, published in health (`sections.control.nonce`). A captured
 *   command names a nonce that no longer exists — whatever happened to the files or the clock;
 * - a body without a nonce must have an `issuedAt` (ms since epoch, as the operator's clock says)
 *   later than the last accepted one. That counter is kept in the outbox database (written with a
 *   full fsync before the command runs) and mirrored in `control.json`. When it cannot be known (both
 *   records unreadable, or the outbox was replaced after damage and the file is gone), such bodies
 *   are refused — fail closed — and health says so; nonce-bound commands still work.
 * When the device's clock is synchronised, `issuedAt` must also be within `maxClockSkew` of it. The
 * body names the device and the command, so a command signed for one device or verb cannot be
 * replayed to another.
 */
export interface SignedBody {
  device: string;
  command: string;
  issuedAt: number;
  /** The device's current nonce (health `sections.control.nonce`), if the command is bound to it. */
  nonce?: string;
  [field: string]: unknown;
}

/** The last accepted `issuedAt`, kept across restarts. */
export interface ReplayStore {
  /** The last accepted issuedAt; undefined when it cannot be known (then nonce-less commands are refused). */
  last(): number | undefined;
  /** Record a new counter value durably; throws if it could not be kept. */
  accept(issuedAt: number): void;
  /** Why `last()` is unknown, in words, for health and replies. */
  problem?(): string | undefined;
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

/** What a counter file says: nothing (no such file), a number, or that it cannot be read. */
export type FileCounter = { state: "missing" } | { state: "ok"; value: number } | { state: "bad"; why: string };

/** A small JSON file in the state folder, replaced atomically (write, fsync, rename). */
export class FileReplayStore implements ReplayStore {
  private value: number | undefined;
  private why: string | undefined;
  constructor(readonly path: string) {}

  read(): FileCounter {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { state: "missing" };
      return { state: "bad", why: `cannot read ${this.path}: ${(err as Error).message}` };
    }
    try {
      const v = (JSON.parse(text) as { lastIssuedAt?: unknown }).lastIssuedAt;
      if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return { state: "ok", value: v };
    } catch {
      // reported below
    }
    return { state: "bad", why: `${this.path} does not hold a counter (damaged?)` };
  }

  /** A missing file is a device that never accepted a signed command; an unreadable one is unknown (fail closed). */
  last(): number | undefined {
    if (this.value === undefined) {
      const r = this.read();
      if (r.state === "bad") {
        this.why = r.why;
        return undefined;
      }
      this.value = r.state === "ok" ? r.value : 0;
    }
    return this.value;
  }

  problem(): string | undefined {
    return this.value === undefined ? this.why : undefined;
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
    this.why = undefined;
  }
}

/** Where the outbox keeps the counter: undefined when it was lost (a replaced, damaged outbox). */
export interface CounterCell {
  commandCounter(): number | undefined;
  setCommandCounter(value: number): void;
}

/**
 * The device's counter: in the outbox database (fsynced with the rest of the device's durable
 * state), mirrored in `control.json`. Known when the database has it (the larger of the two is
 * taken), or, if the database lost it, when the file still says it; unknown otherwise.
 */
export class DeviceReplayStore implements ReplayStore {
  private why: string | undefined;
  constructor(
    private readonly db: CounterCell,
    private readonly file: FileReplayStore,
  ) {}

  last(): number | undefined {
    let fromDb: number | undefined;
    let dbWhy = "";
    try {
      fromDb = this.db.commandCounter();
      if (fromDb === undefined) dbWhy = "the outbox that kept the signed-command counter was replaced after damage";
    } catch (err) {
      dbWhy = `cannot read the signed-command counter from the outbox: ${(err as Error).message}`;
    }
    const f = this.file.read();
    if (fromDb !== undefined) {
      this.why = undefined;
      return Math.max(fromDb, f.state === "ok" ? f.value : 0);
    }
    if (f.state === "ok") {
      this.why = undefined;
      return f.value;
    }
    this.why = `${dbWhy}, and ${f.state === "missing" ? `${this.file.path} is missing` : f.why}`;
    return undefined;
  }

  accept(issuedAt: number): void {
    const errors: string[] = [];
    try {
      this.db.setCommandCounter(issuedAt);
    } catch (err) {
      errors.push((err as Error).message);
    }
    try {
      this.file.accept(issuedAt);
    } catch (err) {
      errors.push((err as Error).message);
    }
    // one durable copy is enough to refuse a replay later; none is not
    if (errors.length === 2) throw new Error(`cannot record the signed-command counter: ${errors.join("; ")}`);
  }

  problem(): string | undefined {
    return this.why;
  }
}

export type VerifyResult =
  | { ok: true; body: SignedBody }
  | {
      ok: false;
      code:
        | "unsigned"
        | "bad-signature"
        | "wrong-device"
        | "wrong-command"
        | "replayed"
        | "stale"
        | "malformed"
        | "replay-unknown"
        | "replay-store";
      message: string;
    };

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
  private nonceV = freshNonce();

  constructor(private readonly opts: VerifierOptions) {}

  /** The nonce a signed body may carry now (published in health); replaced after every accepted command. */
  get nonce(): string {
    return this.nonceV;
  }

  /** For health: the nonce, and whether nonce-less (counter) commands can be checked. */
  status(): { nonce: string; counter: string } {
    let counter: string;
    try {
      const last = this.opts.replay.last();
      counter =
        last === undefined
          ? `unknown, nonce-less signed commands are refused: ${this.opts.replay.problem?.() ?? "the counter cannot be read"}`
          : "ok";
    } catch (err) {
      counter = `unknown, nonce-less signed commands are refused: ${(err as Error).message}`;
    }
    return { nonce: this.nonceV, counter };
  }

  /**
   * Check a request's signature and freshness. On success the `issuedAt` is recorded at once, before
   * the command runs, so the same request can never run twice.
   */
  verify(command: string, request: Record<string, unknown>): VerifyResult {
    const { signed, sig } = request;
    if (typeof signed !== "string" || typeof sig !== "string") {
      return {
        ok: false,
        code: "unsigned",
        message: `${command} must be signed: send { "id", "signed": base64(JSON body), "sig": base64(Ed25519 signature) } (docs/delivery.md)`,
      };
    }
    if (!B64.test(signed) || !B64.test(sig) || sig.length > 100)
      return { ok: false, code: "malformed", message: "signed and sig must be base64" };
    const data = Buffer.from(signed, "base64");
    const signature = Buffer.from(sig, "base64");
    let good = false;
    try {
      good = signature.length === 64 && verify(null, data, this.opts.publicKey, signature);
    } catch {
      good = false;
    }
    if (!good)
      return { ok: false, code: "bad-signature", message: "the signature does not match the device's public key (control.publicKeyFile)" };
    let body: unknown;
    try {
      body = JSON.parse(data.toString("utf8"));
    } catch {
      return { ok: false, code: "malformed", message: "the signed body is not JSON" };
    }
    if (body === null || typeof body !== "object" || Array.isArray(body))
      return { ok: false, code: "malformed", message: "the signed body must be a JSON object" };
    const b = body as Record<string, unknown>;
    if (b["device"] !== this.opts.deviceId)
      return {
        ok: false,
        code: "wrong-device",
        message: `signed for device ${JSON.stringify(b["device"])}, this is ${this.opts.deviceId}`,
      };
    if (b["command"] !== command)
      return { ok: false, code: "wrong-command", message: `signed for command ${JSON.stringify(b["command"])}, received on ${command}` };
    const issuedAt = b["issuedAt"];
    if (typeof issuedAt !== "number" || !Number.isSafeInteger(issuedAt) || issuedAt <= 0) {
      return { ok: false, code: "malformed", message: "issuedAt must be ms since the epoch (an integer)" };
    }
    let last: number | undefined;
    try {
      last = this.opts.replay.last();
    } catch {
      last = undefined;
    }
    const nonce = b["nonce"];
    if (nonce !== undefined) {
      if (nonce !== this.nonceV) {
        return {
          ok: false,
          code: "replayed",
          message:
            "the signed nonce is not this device's current one (it changes after every accepted signed command and at every start); read sections.control.nonce from …/health (the health command publishes a fresh one) and sign again",
        };
      }
    } else if (last === undefined) {
      const why = this.opts.replay.problem?.() ?? "the counter cannot be read";
      return {
        ok: false,
        code: "replay-unknown",
        message: `this device cannot tell a replayed command from a new one (${why}); sign the command with the device's current nonce (sections.control.nonce in …/health) instead`,
      };
    } else if (issuedAt <= last) {
      return {
        ok: false,
        code: "replayed",
        message: `issuedAt ${issuedAt} is not later than the last accepted signed command (${last}); sign a new command`,
      };
    }
    if (this.opts.synced()) {
      const skew = Math.abs(this.opts.wallMs() - issuedAt);
      if (skew > this.opts.maxSkewMs) {
        return {
          ok: false,
          code: "stale",
          message: `issuedAt is ${Math.round(skew / 1000)} s away from the device's clock (limit ${Math.round(this.opts.maxSkewMs / 1000)} s); sign a fresh command`,
        };
      }
    }
    try {
      // never lower the counter (a nonce-bound command may carry an older issuedAt)
      this.opts.replay.accept(Math.max(issuedAt, last ?? 0));
    } catch (err) {
      // kept nowhere: after a restart it could be replayed, so it does not run
      return {
        ok: false,
        code: "replay-store",
        message: `${(err as Error).message}; the command was not run. Check the disk (df -h) and the state folder`,
      };
    }
    this.nonceV = freshNonce();
    return { ok: true, body: b as SignedBody };
  }
}

function freshNonce(): string {
  return randomBytes(12).toString("base64url");
}

/** Read an Ed25519 public key (PEM). Throws with the file named and the fix. */
export function loadPublicKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(path));
  } catch (err) {
    throw new Error(
      `control.publicKeyFile: cannot read an Ed25519 public key from ${path} (${(err as Error).message}); make one with \`openssl genpkey -algorithm ed25519 -out cmd.key && openssl pkey -in cmd.key -pubout -out cmd.pub\``,
    );
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(
      `control.publicKeyFile: ${path} holds a ${key.asymmetricKeyType ?? "unknown"} key; commands are signed with Ed25519 (openssl genpkey -algorithm ed25519)`,
    );
  }
  return key;
}

/** Sign a command body (for operators' tools and tests). */
export function signCommand(privateKey: KeyObject | string | Buffer, body: SignedBody): { signed: string; sig: string } {
  const key = typeof privateKey === "string" || Buffer.isBuffer(privateKey) ? createPrivateKey(privateKey) : privateKey;
  const data = Buffer.from(JSON.stringify(body), "utf8");
  return { signed: data.toString("base64"), sig: sign(null, data, key).toString("base64") };
}
