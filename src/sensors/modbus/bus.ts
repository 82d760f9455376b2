import type { Clock, TimerHandle } from "../../clock/clock.js";
import { NS_PER_MS } from "../../clock/clock.js";
import type { IoError, SerialHandlers, SerialOpenOptions, SerialPortLink, SerialSpec } from "../../io/contract.js";
import type { Logger } from "../../log/logger.js";
import { RtuFramer } from "./framer.js";

/** Why a request got no registers. */
export type ModbusFailure = "timeout" | "crc" | "exception" | "port" | "invalid";

export type ModbusResult =
  | { readonly ok: true; readonly registers: readonly number[] }
  | { readonly ok: false; readonly failure: ModbusFailure; readonly code?: number; readonly message: string };

/** Counters of one slave on the bus (health and doctor). */
export interface ModbusCounters {
  requests: number;
  responses: number;
  timeouts: number;
  crcErrors: number;
  /** Exception responses (the slave refused the request), and the last exception code. */
  exceptions: number;
  lastException: number | null;
  /** Answers of the wrong length, address or function; requests refused while the port was down. */
  invalid: number;
  portDown: number;
}

export function newCounters(): ModbusCounters {
  return { requests: 0, responses: 0, timeouts: 0, crcErrors: 0, exceptions: 0, lastException: null, invalid: 0, portDown: 0 };
}

/** The part of modbus-serial's `ModbusRTU` the bus uses (callback API: one request at a time). */
interface RtuClient {
  open(callback: (err: Error | null) => void): void;
  writeFC3(unit: number, address: number, count: number, next: (err: ModbusError | null, res?: { data: number[] }) => void): void;
  writeFC4(unit: number, address: number, count: number, next: (err: ModbusError | null, res?: { data: number[] }) => void): void;
}
interface ModbusError {
  message: string;
  modbusCode?: number;
}
export type RtuClientFactory = (port: RtuFramer) => RtuClient;

/** modbus-serial, loaded on first use (it loads serialport, which `roadside validate` never needs). */
export async function modbusSerialClient(): Promise<RtuClientFactory> {
  const mod = (await import("modbus-serial")) as unknown as { default: new (port: unknown) => RtuClient };
  return (port) => new mod.default(port);
}

export interface ModbusBusOptions {
  spec: SerialSpec;
  clock: Clock;
  logger: Logger;
  openSerial: (spec: SerialSpec, handlers: SerialHandlers, opts?: SerialOpenOptions) => Promise<SerialPortLink>;
  /** modbus-serial by default; tests may pass another client over the same framer. */
  client?: () => Promise<RtuClientFactory>;
}

interface Request {
  unit: number;
  fc: 3 | 4;
  address: number;
  count: number;
  timeoutMs: number;
  done: (r: ModbusResult, tNs: number) => void;
}

/**
 * One RS-485 bus: a serial link with any number of Modbus RTU slaves on it, told apart by unit id.
 * RS-485 is half duplex and Modbus has one master, so requests are queued and sent one at a time;
 * each ends with an answer, an exception, a CRC error or a timeout on the device clock (so the
 * simulator's virtual time decides timeouts as a real line would). Counts every outcome per unit.
 */
export class ModbusBus {
  private link: SerialPortLink | undefined;
  private opening: Promise<void> | undefined;
  private client: RtuClient | undefined;
  private readonly framer: RtuFramer;
  private readonly queue: Request[] = [];
  private busy = false;
  private timer: TimerHandle | undefined;
  private users = 0;
  private readonly portWatchers: ((down: boolean, error?: IoError) => void)[] = [];
  readonly counters = new Map<number, ModbusCounters>();
  portDown = false;

  constructor(private readonly opts: ModbusBusOptions) {
    this.framer = new RtuFramer((data) => {
      this.link?.write(data).catch(() => {
        /* a write to a port going away: the request times out and the link reopens */
      });
    });
  }

  get name(): string {
    return this.opts.spec.name;
  }

  countersOf(unit: number): ModbusCounters {
    let c = this.counters.get(unit);
    if (!c) {
      c = newCounters();
      this.counters.set(unit, c);
    }
    return c;
  }

  /**
   * Open the link (once for all users). A port missing at start is retried by the link itself (the
   * one retry layer of the port); meanwhile requests fail at once as `port`, and the users hear it.
   */
  open(): Promise<void> {
    if (this.link) return Promise.resolve();
    this.opening ??= this.openOnce().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async openOnce(): Promise<void> {
    const factory = await (this.opts.client ?? modbusSerialClient)();
    this.portDown = false;
    this.link = await this.opts.openSerial(
      this.opts.spec,
      {
        data: (chunk) => this.framer.receive(chunk),
        state: (s, err) => {
          this.portDown = s !== "open";
          for (const w of this.portWatchers) w(this.portDown, err);
        },
      },
      { retry: true },
    );
    this.framer.opened = true;
    if (!this.client) {
      const c = factory(this.framer);
      await new Promise<void>((resolve, reject) => c.open((err) => (err ? reject(err) : resolve())));
      this.client = c;
    }
  }

  /** One more sensor uses the bus and hears when its port goes (true) and comes back (false); `release` when it stops. */
  retain(onPort: (down: boolean, error?: IoError) => void): void {
    this.users++;
    this.portWatchers.push(onPort);
    if (this.portDown) onPort(true);
  }

  /** The last user stopped: fail what is queued and close the link. */
  async release(): Promise<void> {
    if (--this.users > 0) return;
    for (const r of this.queue.splice(0)) r.done({ ok: false, failure: "port", message: "the bus was closed" }, this.opts.clock.monoNs());
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.framer.opened = false;
    const l = this.link;
    this.link = undefined;
    await l?.close();
  }

  /** Read `count` registers with function 03 or 04 from a slave; `done` is called exactly once. */
  read(unit: number, fc: 3 | 4, address: number, count: number, timeoutMs: number, done: Request["done"]): void {
    this.queue.push({ unit, fc, address, count, timeoutMs, done });
    if (!this.busy) this.next();
  }

  private next(): void {
    const r = this.queue.shift();
    if (!r) {
      this.busy = false;
      return;
    }
    this.busy = true;
    const clock = this.opts.clock;
    const c = this.countersOf(r.unit);
    c.requests++;
    let settled = false;
    const finish = (res: ModbusResult): void => {
      if (settled) return;
      settled = true;
      if (this.timer) clock.clearTimer(this.timer);
      this.timer = undefined;
      this.count(c, res);
      r.done(res, clock.monoNs());
      this.next();
    };
    if (!this.client || !this.link || this.portDown) {
      finish({ ok: false, failure: "port", message: `serial port ${this.name} is not open` });
      return;
    }
    this.timer = clock.setTimer(clock.monoNs() + r.timeoutMs * NS_PER_MS, () => {
      this.timer = undefined;
      this.framer.abandon();
      finish({ ok: false, failure: "timeout", message: `unit ${r.unit} did not answer within ${r.timeoutMs} ms` });
    });
    const send = r.fc === 3 ? this.client.writeFC3.bind(this.client) : this.client.writeFC4.bind(this.client);
    send(r.unit, r.address, r.count, (err, res) => {
      if (err) finish(classify(err, r.unit));
      else finish({ ok: true, registers: res?.data ?? [] });
    });
  }

  private count(c: ModbusCounters, res: ModbusResult): void {
    if (res.ok) {
      c.responses++;
      return;
    }
    if (res.failure === "timeout") c.timeouts++;
    else if (res.failure === "crc") c.crcErrors++;
    else if (res.failure === "exception") {
      c.exceptions++;
      c.lastException = res.code ?? null;
    } else if (res.failure === "port") c.portDown++;
    else c.invalid++;
  }
}

/** modbus-serial's errors → what happened on the line. */
function classify(err: ModbusError, unit: number): ModbusResult {
  if (typeof err.modbusCode === "number")
    return {
      ok: false,
      failure: "exception",
      code: err.modbusCode,
      message: `unit ${unit} answered with exception ${err.modbusCode}: ${err.message}`,
    };
  if (/CRC/i.test(err.message)) return { ok: false, failure: "crc", message: `unit ${unit}: answer failed its CRC check` };
  if (/not open/i.test(err.message)) return { ok: false, failure: "port", message: err.message };
  return { ok: false, failure: "invalid", message: `unit ${unit}: ${err.message}` };
}

/** The exception codes of Modbus Application Protocol v1.1b3 §7, for messages. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "illegal function",
  2: "illegal data address",
  3: "illegal data value",
  4: "server device failure",
  5: "acknowledge",
  6: "server device busy",
  10: "gateway path unavailable",
  11: "gateway target device failed to respond",
});
