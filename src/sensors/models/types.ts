/**
 * The shape of a level sensor model definition (zigbee-herdsman-converters style: one definition per
 * model or family, the engine never names a model). Definitions are plain data plus pure functions
 * (register decoding and its simulator inverse): no I/O, no imports from above, so the config schema,
 * validation, doctor, features, the simulator and the generated docs all read the same list.
 */

/**
 * What a reading said: `Range` (mm is the distance to the target), `MinRange` (at or inside the
 * minimum range: something is too close to measure), `NoTarget` (nothing in range, or the sensor
 * flags its value invalid).
 */
export const Reading = Object.freeze({ Range: 0, MinRange: 1, NoTarget: 2 } as const);
export type Reading = (typeof Reading)[keyof typeof Reading];

/** Where a model's facts come from. `verified: false` marks register maps written from memory of the manual, not checked against it. */
export interface Datasheet {
  /** Manufacturer's document title, as printed on it. */
  readonly title: string;
  /** Edition / document id / version, as far as known. */
  readonly edition: string;
  /** Chapter or table the facts come from. */
  readonly section: string;
  readonly url?: string;
  /** Where an unverified map comes from instead (a working field driver), when the manufacturer's document was not reachable. */
  readonly source?: string;
  readonly verified: boolean;
}

/** Factory serial settings of a model (applied where the config leaves them out). */
export interface SerialDefaults {
  readonly baudRate: number;
  readonly dataBits: 7 | 8;
  readonly parity: "none" | "even" | "odd";
  readonly stopBits: 1 | 2;
}

/** One quantity a model measures, with its unit as published (UCUM-style). */
export interface Measure {
  readonly quantity: "distance";
  readonly unit: "mm";
}

interface ModelBase {
  /** The config's `model:` value. */
  readonly id: string;
  /** Manufacturer and product line, for messages and the docs table. */
  readonly name: string;
  readonly manufacturer: string;
  readonly principle: "ultrasonic" | "radar";
  readonly measures: readonly Measure[];
  /** Closest distance the model measures, mm (closer targets read as the minimum or fail). */
  readonly minRangeMm: number;
  /** Farthest distance the model measures, mm. */
  readonly maxRangeMm: number;
  readonly serial: SerialDefaults;
  readonly datasheet: Datasheet;
  /** What a technician checks for each fault, in this model's terms (doctor and the sensor-fault alarm). */
  readonly hints: {
    /** Bytes arrive but nothing parses. */
    readonly garbled: string;
    /** The sensor answers but reports no usable level. */
    readonly noTarget: string;
  };
}

/**
 * A free-running ASCII rangefinder (MaxBotix): `R` + digits + CR, parsed by src/sensors/maxbotix.ts.
 * Config: `type: maxbotix`.
 */
export interface FrameModel extends ModelBase {
  readonly interface: "serial-frames";
  readonly frame: {
    /** Digits between `R` and CR. */
    readonly digits: number;
    /** Millimetres per reported unit. */
    readonly mmPerUnit: number;
    /** Reported value for targets at or inside the minimum range: not a level (too close to tell). */
    readonly minReport: number;
    /** Values at or above this mean "no target" (nothing in range): not a level. */
    readonly noTargetFrom: number;
  };
}

/** A level as decoded from registers. `mm` is NaN unless `kind` is `Reading.Range`. */
export interface RegisterReading {
  readonly kind: Reading;
  readonly mm: number;
}

/** What the simulated sensor sees: a distance (mm) or no echo. */
export type SimTarget = number | "no-target";

/** A block of registers the simulated device holds for one function code. */
export interface RegisterBlock {
  /** 3 = holding registers, 4 = input registers (Modbus Application Protocol v1.1b3 §6.3/§6.4). */
  readonly fc: 3 | 4;
  readonly address: number;
  readonly values: readonly number[];
}

/**
 * A Modbus RTU slave on RS-485 (Modbus over Serial Line v1.02), polled by src/sensors/modbus/.
 * Config: `type: modbus`.
 */
export interface ModbusModel extends ModelBase {
  readonly interface: "modbus-rtu";
  readonly modbus: {
    /** Factory slave address. */
    readonly defaultUnitId: number;
    /** The one read each poll makes. */
    readonly poll: { readonly fc: 3 | 4; readonly address: number; readonly count: number };
    /** The poll's registers → a reading; throws an Error naming the register for a value it cannot use. */
    decode(registers: readonly number[]): RegisterReading;
    /** Simulator: the register blocks the device shows for a target (the inverse of `decode`, plus what else the map holds). */
    simulate(target: SimTarget): readonly RegisterBlock[];
  };
}

export type LevelModel = FrameModel | ModbusModel;
/** Config `type:` of each interface. */
export const CONFIG_TYPE = Object.freeze({ "serial-frames": "maxbotix", "modbus-rtu": "modbus" } as const);
