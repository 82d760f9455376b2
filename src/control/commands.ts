import type { LoadedConfig, ValidationResult } from "../config/load.js";
import { formatIssues } from "../config/issue-format.js";
import type { Logger } from "../log/logger.js";
import type { MqttSession } from "../mqtt/session.js";
import type { Topics } from "../publish/index.js";
import type { HealthReport } from "./health-report.js";
import type { CommandVerifier } from "./signing.js";

/** One received command, as much as is needed to answer it. */
export interface CommandRequest {
  name: string;
  /** The request's `id`, echoed in the reply (null when the request had none or could not be read). */
  id: string | null;
  /** MQTT 5 correlation data, echoed as the reply's correlation data. */
  correlationData?: Buffer;
}

export type CommandReply =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; error: { code: string; message: string; issues?: string[] } };

/** A validated config a `config` command asks for, and the text to keep on disk if it comes up. */
export interface ConfigCandidate {
  loaded: LoadedConfig;
  text: string;
}

/** What commands reach outside the command handler. */
export interface CommandHooks {
  publishHealth(): Promise<HealthReport>;
  uptimeS(): number;
  wallMs(): number;
  /** Apply a new config (stop, rebuild, roll back on failure). The hook sends the final reply. */
  applyConfig?: (candidate: ConfigCandidate, req: CommandRequest) => void;
  /** Restart the device (the reply has been sent). */
  restart?: (req: CommandRequest) => void;
}

export interface CommandsOptions {
  session: MqttSession;
  topics: Topics;
  logger: Logger;
  /** The config running now: a new one may not change what identifies the device. */
  current: LoadedConfig;
  /** Largest payload accepted, bytes. */
  maxBytes: number;
  /** Checks signatures of config and restart; undefined: those commands are refused. */
  verifier: CommandVerifier | undefined;
  hooks: CommandHooks;
  /** Commands answered per second at most, and the burst allowed; more are ignored and counted. Default 20/s, 40. */
  rate?: { perS: number; burst: number };
}

export const COMMAND_NAMES = ["ping", "health", "config", "restart"] as const;
const ID = /^[\x20-\x7e]{1,128}$/;
const MAX_QUEUED_REPLIES = 32;

/**
 * Commands on `…/cmd/{name}`, replies on `…/cmd/{name}/reply` (docs/payloads.md "Commands").
 * Requests and replies are JSON objects; the reply echoes the request's `id` and, on MQTT 5, its
 * correlation data. The reply always goes to the contract's reply topic, never to a request's
 * response topic: a device's ACL lets it write its own topics only, and a command must not be able
 * to make it publish elsewhere.
 *
 * Every request is answered (or, beyond the rate limit, ignored and counted); a malformed, unknown,
 * unsigned or oversized one gets an error reply and changes nothing. No command runs a program or
 * reads a file named in the request.
 */
export class Commands {
  private readonly log: Logger;
  private tokens: number;
  private lastRefill = performance.now();
  private queued: { req: CommandRequest; body: CommandReply }[] = [];
  readonly counters = { received: 0, rejected: 0, rateLimited: 0 };

  constructor(private readonly opts: CommandsOptions) {
    this.log = opts.logger.child({ component: "commands" });
    this.tokens = opts.rate?.burst ?? 40;
  }

  start(): void {
    this.opts.session.subscribe(this.opts.topics.commandFilter(), (topic, payload, props) => {
      try {
        this.handle(topic, payload, props);
      } catch (err) {
        // a bug here must never take the device down
        this.log.error(`command on ${topic} failed: ${(err as Error).message}`);
      }
    });
  }

  /** The session is (re)connected: send replies that waited for it. */
  online(): void {
    for (const q of this.queued.splice(0)) void this.reply(q.req, q.body);
  }

  handle(topic: string, payload: Buffer, props: Record<string, unknown> | undefined): void {
    this.counters.received++;
    if (!this.take()) {
      this.counters.rateLimited++;
      return;
    }
    const name = this.opts.topics.parseCommand(topic);
    if (name === undefined) {
      this.counters.rejected++;
      this.log.debug(() => `ignored a message on ${JSON.stringify(topic.slice(0, 200))}: not a command topic of this device`);
      return;
    }
    const req: CommandRequest = { name, id: null };
    const cd = props?.["correlationData"];
    if (Buffer.isBuffer(cd) && cd.length <= 256) req.correlationData = cd;
    const fail = (code: string, message: string, issues?: string[]): void => {
      this.counters.rejected++;
      this.log.info(`command ${name} refused: ${message}`, { id: req.id ?? undefined, code });
      void this.reply(req, { ok: false, error: issues ? { code, message, issues } : { code, message } });
    };
    if (payload.length > this.opts.maxBytes) {
      fail("too-large", `the request has ${payload.length} bytes; at most ${this.opts.maxBytes} are accepted (control.maxCommandBytes)`);
      return;
    }
    let obj: Record<string, unknown> = {};
    if (payload.length > 0) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload.toString("utf8"));
      } catch {
        fail("malformed", 'the request is not JSON; send a JSON object such as {"id":"1"}');
        return;
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        fail("malformed", "the request must be a JSON object");
        return;
      }
      obj = parsed as Record<string, unknown>;
    }
    const id = obj["id"];
    if (id !== undefined) {
      if (typeof id !== "string" || !ID.test(id)) {
        fail("malformed", "id must be a string of 1 to 128 printable ASCII characters");
        return;
      }
      req.id = id;
    }
    switch (name) {
      case "ping":
        void this.reply(req, {
          ok: true,
          result: { pong: true, uptimeS: Math.round(this.opts.hooks.uptimeS()), time: new Date(this.opts.hooks.wallMs()).toISOString() },
        });
        return;
      case "health":
        this.opts.hooks.publishHealth().then(
          (report) => void this.reply(req, { ok: true, result: { published: true, configHash: report.configHash } }),
          (err: unknown) => fail("unavailable", `health could not be published: ${(err as Error).message}`),
        );
        return;
      case "config":
        this.config(req, obj, fail);
        return;
      case "restart":
        this.restart(req, obj, fail);
        return;
      default:
        fail("unknown-command", `unknown command ${JSON.stringify(name)}; commands: ${COMMAND_NAMES.join(", ")}`);
        return;
    }
  }

  private config(
    req: CommandRequest,
    obj: Record<string, unknown>,
    fail: (code: string, message: string, issues?: string[]) => void,
  ): void {
    const verifier = this.opts.verifier;
    if (!verifier) {
      fail("disabled", "remote config is off on this device: no control.publicKeyFile is provisioned");
      return;
    }
    const hook = this.opts.hooks.applyConfig;
    if (!hook) {
      fail(
        "unsupported",
        "this device runs without a config file (the demo), so a new config could not be kept; start it with roadside run --config FILE",
      );
      return;
    }
    const v = verifier.verify("config", obj);
    if (!v.ok) {
      fail(v.code, v.message);
      return;
    }
    const { config, yaml } = v.body;
    if (typeof yaml !== "string" && (config === null || typeof config !== "object" || Array.isArray(config))) {
      fail("malformed", "the signed body needs config (a JSON object) or yaml (the config file's text)");
      return;
    }
    // The validator (zod, yaml, the schemas: ~8 MB of live heap) loads only when a config is pushed,
    // which is rare; a device that is never sent one never holds it (issue 15).
    import("../config/load.js").then(
      ({ parseConfigText, validateConfig }) => {
        const result = typeof yaml === "string" ? parseConfigText(yaml) : validateConfig(config);
        const text = typeof yaml === "string" ? yaml : `${JSON.stringify(config, null, 2)}\n`;
        this.applyCandidate(req, result, text, hook, fail);
      },
      (err: unknown) => fail("unavailable", `the config validator could not be loaded: ${(err as Error).message}`),
    );
  }

  private applyCandidate(
    req: CommandRequest,
    result: ValidationResult,
    text: string,
    hook: NonNullable<CommandHooks["applyConfig"]>,
    fail: (code: string, message: string, issues?: string[]) => void,
  ): void {
    if (!result.ok) {
      fail("invalid-config", `the new config has ${result.issues.length} problem(s); nothing was changed`, formatIssues(result.issues));
      return;
    }
    const cur = this.opts.current.config;
    const next = result.loaded.config;
    if (next.device.id !== cur.device.id) {
      fail(
        "immutable",
        `device.id cannot be changed remotely (${cur.device.id} → ${next.device.id}): it names the topics and the sequence numbers`,
      );
      return;
    }
    if (next.state.dir !== cur.state.dir) {
      fail("immutable", "state.dir cannot be changed remotely: the outbox lives there");
      return;
    }
    this.log.info(`applying a new config (hash ${result.loaded.hash.slice(0, 12)}…)`, { id: req.id ?? undefined });
    hook({ loaded: result.loaded, text }, req);
  }

  private restart(req: CommandRequest, obj: Record<string, unknown>, fail: (code: string, message: string) => void): void {
    const verifier = this.opts.verifier;
    if (!verifier) {
      fail("disabled", "remote restart is off on this device: no control.publicKeyFile is provisioned");
      return;
    }
    const hook = this.opts.hooks.restart;
    if (!hook) {
      fail("unsupported", "this device cannot restart itself here");
      return;
    }
    const v = verifier.verify("restart", obj);
    if (!v.ok) {
      fail(v.code, v.message);
      return;
    }
    this.log.info("restart requested by command", { id: req.id ?? undefined });
    const sent = this.reply(req, { ok: true, result: { restarting: true } });
    // restart once the reply is acknowledged (or after 2 s): the operator learns it was taken
    void Promise.race([sent, new Promise((r) => setTimeout(r, 2000))]).then(() => hook(req));
  }

  /** Publish a reply (queued until connected). Resolves on PUBACK or when queued. */
  async reply(req: CommandRequest, body: CommandReply): Promise<void> {
    const session = this.opts.session;
    if (session.state !== "connected") {
      if (this.queued.length < MAX_QUEUED_REPLIES) this.queued.push({ req, body });
      return;
    }
    const payload = JSON.stringify({ id: req.id, command: req.name, ...body });
    const properties: Record<string, unknown> = { contentType: "application/json" };
    if (req.correlationData) properties["correlationData"] = req.correlationData;
    try {
      await session.publish(this.opts.topics.reply(req.name), payload, { qos: 1, retain: false, properties });
    } catch (err) {
      this.log.debug(() => `reply to ${req.name} not sent: ${(err as Error).message}`);
    }
  }

  /** Token bucket on real time: a flood of commands cannot make the device flood the broker. */
  private take(): boolean {
    const perS = this.opts.rate?.perS ?? 20;
    const burst = this.opts.rate?.burst ?? 40;
    const now = performance.now();
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * perS);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
