import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_MS, NS_PER_S } from "../clock/clock.js";
import { VirtualClock } from "../clock/virtual.js";
import type { SimFault } from "../config/sections/sim.js";
import { crcOk, withCrc } from "../sensors/modbus/crc.js";
import type { ModbusModel, RegisterBlock, SimTarget } from "../sensors/models/index.js";
import type { Rng } from "./rng.js";
import type { TruthRecord } from "./scenario.js";
import type { SimSerialDevice } from "./serial.js";

/**
 * Faults a simulated Modbus slave handles itself (sim.faults kinds aimed at its sensor name):
 * `silent` it does not answer; `crc-errors` its answers fail the CRC check (a share of them, param
 * `share`, default 1); `exception` it answers with an exception (param `code`, default 4, server
 * device failure). `unplug`, `garbage`, `partial-frames` and `wrong-baud` act on the whole line
 * through the generic injector.
 */
export const MODBUS_SLAVE_FAULTS = ["silent", "crc-errors", "exception"] as const;

/** A slave's answer delay after the request, ms (a sensor answers within tens of ms). */
const ANSWER_MS = 15;

interface Fault {
  kind: string;
  params: Record<string, number>;
}

/** One simulated sensor on the line: its register map from its definition, and its faults. */
export class SimModbusSlave {
  readonly active = new Map<string, Fault>();
  requests = 0;
  answers = 0;
  private readonly faultTimers: TimerHandle[] = [];

  constructor(
    readonly unitId: number,
    readonly model: ModbusModel,
    private readonly target: (nowNs: number) => SimTarget,
    private readonly rng: Rng,
    private readonly noiseMm: number,
    private readonly truth: (r: TruthRecord) => void,
    readonly name: string,
  ) {}

  armFaults(clock: Clock, faults: readonly SimFault[], startNs: number): void {
    for (const f of faults) {
      if (f.target !== this.name || !(MODBUS_SLAVE_FAULTS as readonly string[]).includes(f.kind)) continue;
      const from = startNs + f.at * NS_PER_S;
      const to = f.for === undefined ? Infinity : from + f.for * NS_PER_S;
      this.faultTimers.push(
        clock.setTimer(from, () => {
          this.active.set(f.kind, { kind: f.kind, params: f.params ?? {} });
          this.truth({ kind: "fault", sensor: this.name, fault: f.kind, startNs: from });
        }),
      );
      if (to !== Infinity)
        this.faultTimers.push(
          clock.setTimer(to, () => {
            this.active.delete(f.kind);
            this.truth({ kind: "fault-end", sensor: this.name, fault: f.kind, startNs: from, endNs: to });
          }),
        );
    }
  }

  disarm(clock: Clock): void {
    for (const t of this.faultTimers) clock.clearTimer(t);
  }

  /** The answer to a request PDU (function, address, count), or undefined for no answer. */
  answer(fc: number, address: number, count: number, nowNs: number): Buffer | undefined {
    this.requests++;
    if (this.active.has("silent")) return undefined;
    const exc = this.active.get("exception");
    let pdu: Buffer;
    if (exc) pdu = exception(fc, exc.params["code"] ?? 4);
    else if (fc !== 3 && fc !== 4) pdu = exception(fc, 1);
    else if (count < 1 || count > 125) pdu = exception(fc, 3);
    else {
      const t = this.target(nowNs);
      const noisy = typeof t === "number" ? t + this.rng.normal(0, this.noiseMm) : t;
      const values = readBlocks(this.model.modbus.simulate(noisy), fc, address, count);
      if (!values) pdu = exception(fc, 2);
      else {
        pdu = Buffer.alloc(2 + 2 * count);
        pdu[0] = fc;
        pdu[1] = 2 * count;
        for (let i = 0; i < count; i++) pdu.writeUInt16BE(values[i]! & 0xffff, 2 + 2 * i);
      }
    }
    const frame = withCrc(Buffer.concat([Buffer.from([this.unitId]), pdu]));
    const crc = this.active.get("crc-errors");
    if (crc && this.rng.chance(crc.params["share"] ?? 1)) frame[frame.length - 1]! ^= 0x5a;
    this.answers++;
    return frame;
  }
}

function exception(fc: number, code: number): Buffer {
  return Buffer.from([fc | 0x80, code]);
}

/** `count` registers from `address` of the blocks for `fc`, or undefined when any is outside them (exception 02). */
function readBlocks(blocks: readonly RegisterBlock[], fc: number, address: number, count: number): number[] | undefined {
  const out: number[] = [];
  for (let a = address; a < address + count; a++) {
    const b = blocks.find((x) => x.fc === fc && a >= x.address && a < x.address + x.values.length);
    if (!b) return undefined;
    out.push(b.values[a - b.address]!);
  }
  return out;
}

/**
 * An RS-485 line in the simulator: one simulated serial device with any number of slaves on it, by
 * unit id. It reads the master's requests from the bytes the host writes (read holding/input
 * registers, Modbus Application Protocol v1.1b3 §6.3/§6.4), checks their CRC (a request with a bad
 * CRC gets no answer, as the standard says), and the addressed slave answers after a short delay
 * from its definition's register map. Unknown unit ids and broadcasts (unit 0) get no answer.
 */
export class SimModbusLine {
  private readonly slaves = new Map<number, SimModbusSlave>();
  private pending: Buffer = Buffer.alloc(0);
  private readonly timers = new Set<TimerHandle>();
  badRequests = 0;

  constructor(
    private readonly clock: Clock,
    readonly device: SimSerialDevice,
  ) {
    device.onHostWrite = (data) => this.hostWrote(data);
  }

  add(slave: SimModbusSlave): void {
    if (this.slaves.has(slave.unitId))
      throw new Error(`two simulated Modbus sensors share unit id ${slave.unitId} on ${this.device.path} (${slave.name})`);
    this.slaves.set(slave.unitId, slave);
  }

  stop(): void {
    for (const t of this.timers) this.clock.clearTimer(t);
    this.timers.clear();
    for (const s of this.slaves.values()) s.disarm(this.clock);
  }

  private hostWrote(data: Buffer): void {
    // let the host's write complete at this virtual instant (its stream accepts the next write only
    // after this one's callback), as a real adapter has sent the request long before any timeout
    if (this.clock instanceof VirtualClock) this.clock.yieldSoon();
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    // read requests are 8 bytes: unit, function, address, count, CRC
    while (this.pending.length >= 8) {
      const req = this.pending.subarray(0, 8);
      this.pending = this.pending.subarray(8);
      if (!crcOk(req)) {
        this.badRequests++;
        this.pending = Buffer.alloc(0);
        return;
      }
      const slave = this.slaves.get(req[0]!);
      if (!slave) continue;
      const now = this.clock.monoNs();
      const frame = slave.answer(req[1]!, req.readUInt16BE(2), req.readUInt16BE(4), now);
      if (!frame) continue;
      const t = this.clock.setTimer(now + ANSWER_MS * NS_PER_MS, () => {
        this.timers.delete(t);
        this.device.emit(frame);
      });
      this.timers.add(t);
    }
  }
}
