/**
 * The one module that builds MQTT topics (DESIGN.md "MQTT contract"). It adds the prefix, validates
 * every name, and never produces wildcards, so no other code concatenates topic strings.
 */
const SAFE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export class TopicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TopicError";
  }
}

function check(what: string, name: string): string {
  if (!SAFE.test(name))
    throw new TopicError(`${what} ${JSON.stringify(name)} is not safe in a topic: use letters, digits, _ and - only (max 64)`);
  return name;
}

export type StreamTopicKind = "traffic" | "level" | "bin" | "presence";

export class Topics {
  /** `{prefix}/{device}` */
  readonly base: string;

  constructor(
    prefix: string,
    readonly deviceId: string,
  ) {
    const segs = prefix.split("/");
    for (const s of segs) check("topic prefix segment", s);
    this.base = `${segs.join("/")}/${check("device id", deviceId)}`;
  }

  /** Retained birth/LWT: `online` / `offline`. */
  status(): string {
    return `${this.base}/status`;
  }
  /** Retained transparency record. */
  manifest(): string {
    return `${this.base}/manifest`;
  }
  /** Heartbeat. */
  health(): string {
    return `${this.base}/health`;
  }
  /** Window summaries of one detector or sensor. */
  stream(kind: StreamTopicKind, name: string): string {
    return `${this.base}/${kind}/${check(`${kind} stream`, name)}`;
  }
  /** The cellular profile's packs: every stream of one window in one message. */
  window(): string {
    return `${this.base}/window`;
  }
  /** Events of one sensor (overflow, fire, detector fault…). */
  alarm(name: string): string {
    return `${this.base}/alarm/${check("alarm source", name)}`;
  }
  /** Where `roadside doctor` makes its test publish (QoS 1, not retained). */
  doctor(): string {
    return `${this.base}/doctor`;
  }
  /** Command topic the device subscribes to. */
  command(name: string): string {
    return `${this.base}/cmd/${check("command", name)}`;
  }
  /** Reply topic of a command. */
  reply(name: string): string {
    return `${this.base}/cmd/${check("command", name)}/reply`;
  }
  /** Subscription filter for every command of this device (the only wildcard this module makes). */
  commandFilter(): string {
    return `${this.base}/cmd/+`;
  }
  /** The command name in a received topic, or undefined when the topic is not a command of this device. */
  parseCommand(topic: string): string | undefined {
    const pre = `${this.base}/cmd/`;
    if (!topic.startsWith(pre)) return undefined;
    const name = topic.slice(pre.length);
    return SAFE.test(name) ? name : undefined;
  }
}
