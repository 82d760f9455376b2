/**
 * The simulator's serialport binding: a node-serialport `BindingInterface` whose ports are simulated
 * sensors. `SerialLink` opens it exactly as it opens `/dev/ttyAMA0` through the hardware binding, so
 * every parser and driver runs its real code path. Grown up from @serialport/binding-mock, with the
 * controls a test needs and hardware lacks: `emit`, `unplug`, `plug`, wrong baud rates, `written`.
 */

/** node-serialport's open options (the subset a binding must honour). */
export interface SimOpenOptions {
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  stopBits?: 1 | 1.5 | 2;
  parity?: string;
  lock?: boolean;
  rtscts?: boolean;
  xon?: boolean;
  xoff?: boolean;
  xany?: boolean;
  hupcl?: boolean;
}

interface BindingError extends Error {
  canceled?: boolean;
  disconnected?: boolean;
}

function canceled(msg: string): BindingError {
  const e: BindingError = new Error(msg);
  e.canceled = true;
  return e;
}

function disconnected(msg: string): BindingError {
  const e: BindingError = new Error(msg);
  e.disconnected = true;
  return e;
}

/** One simulated serial device (a sensor at the end of a cable). */
export class SimSerialDevice {
  /** Every byte the device received from the host, in order. */
  readonly written: Buffer[] = [];
  private port: SimPortBinding | undefined;
  private plugged = true;
  /** Bytes emitted while nothing had the port open (lost, like on a real UART). */
  lostBytes = 0;
  /** The rate the sensor transmits at; a host opening at another rate reads garbage (see `wrong-baud`). */
  baudRate: number;
  /**
   * Rewrites every transmission before it goes on the wire, or undefined. Faults use it (partial
   * frames); at most one is active. Returning an empty buffer drops the transmission.
   */
  transform: ((bytes: Buffer) => Buffer) | undefined;
  /** Called when a host opens the port (an Arduino resets and greets on DTR, for example). */
  onHostOpen: (() => void) | undefined;
  /** Called with each write from the host (a ranging trigger, a Firmata command). */
  onHostWrite: ((data: Buffer) => void) | undefined;

  constructor(
    readonly path: string,
    /** The rate the sensor transmits at; a host opening at another rate reads garbage. */
    baudRate: number,
    private readonly onEmit: () => void,
  ) {
    this.baudRate = baudRate;
  }

  /** Whether a host has the port open. */
  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Transmit bytes to the host (if it has the port open; otherwise they are lost). */
  emit(data: Buffer | string): void {
    let bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    if (this.transform) bytes = this.transform(bytes);
    if (bytes.length === 0) return;
    const p = this.port;
    if (!p?.isOpen || !this.plugged) {
      this.lostBytes += bytes.length;
      return;
    }
    p.receive(p.openOptions.baudRate === this.baudRate ? bytes : garble(bytes, p.openOptions.baudRate, this.baudRate));
    this.onEmit();
  }

  /** Pull the cable: reads fail with a disconnect, and opening fails until `plug()`. */
  unplug(): void {
    this.plugged = false;
    this.port?.disconnect();
    this.port = undefined;
    // the host notices asynchronously: let it, before time moves on
    this.onEmit();
  }

  plug(): void {
    this.plugged = true;
  }

  get isPlugged(): boolean {
    return this.plugged;
  }

  /** @internal binding side */
  attach(port: SimPortBinding): void {
    if (!this.plugged) throw Object.assign(new Error(`Error: No such file or directory, cannot open ${this.path}`), { code: "ENOENT" });
    if (this.port?.isOpen) throw new Error(`Error Resource temporarily unavailable Cannot lock port ${this.path}`);
    this.port = port;
    if (this.onHostOpen) {
      // after the host's open() has resolved, as a board's greeting follows the reset
      const greet = this.onHostOpen;
      setImmediate(() => {
        if (this.port === port && port.isOpen) greet();
      });
      this.onEmit();
    }
  }

  /** @internal */
  detach(port: SimPortBinding): void {
    if (this.port === port) this.port = undefined;
  }

  /** @internal binding side: the host wrote. */
  hostWrote(data: Buffer): void {
    this.written.push(data);
    this.onHostWrite?.(data);
  }
}

/**
 * What a host reads when it samples a UART at the wrong rate: framing is lost and bytes come out
 * scrambled and at a different count. Deterministic, so seeded runs replay exactly.
 */
function garble(bytes: Buffer, hostBaud: number, deviceBaud: number): Buffer {
  const ratio = hostBaud / deviceBaud;
  const n = Math.max(1, Math.round(bytes.length * ratio));
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    const b = bytes[Math.min(bytes.length - 1, Math.floor(i / ratio))]!;
    out[i] = ((b * 37 + i * 11) ^ 0x5a) & 0xff;
  }
  return out;
}

/** The open port, binding side. */
export class SimPortBinding {
  isOpen = true;
  readonly openOptions: Required<SimOpenOptions>;
  private queue: Buffer[] = [];
  private pending:
    | {
        buffer: Buffer;
        offset: number;
        length: number;
        resolve: (r: { buffer: Buffer; bytesRead: number }) => void;
        reject: (e: Error) => void;
      }
    | undefined;

  constructor(
    private readonly device: SimSerialDevice,
    options: SimOpenOptions,
  ) {
    this.openOptions = {
      dataBits: 8,
      lock: true,
      stopBits: 1,
      parity: "none",
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: true,
      ...options,
    };
  }

  /** @internal device side: bytes arrive. */
  receive(bytes: Buffer): void {
    if (this.gone) return;
    this.queue.push(bytes);
    this.fulfil();
  }

  private gone = false;

  /**
   * @internal device side: the cable was pulled. The pending read fails with `disconnected`; the
   * stream then closes the port itself (so `isOpen` stays true until it does, as with a real tty).
   */
  disconnect(): void {
    this.gone = true;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(disconnected(`${this.device.path} disconnected`));
  }

  private fulfil(): void {
    const p = this.pending;
    if (!p || this.queue.length === 0) return;
    this.pending = undefined;
    let n = 0;
    while (n < p.length && this.queue.length > 0) {
      const head = this.queue[0]!;
      const take = Math.min(head.length, p.length - n);
      head.copy(p.buffer, p.offset + n, 0, take);
      n += take;
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
    }
    p.resolve({ buffer: p.buffer, bytesRead: n });
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw new Error("Port is not open");
    this.isOpen = false;
    this.device.detach(this);
    const p = this.pending;
    this.pending = undefined;
    p?.reject(canceled("port is closed"));
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen || this.gone) return Promise.reject(disconnected(`${this.device.path}: Port is not open`));
    if (this.pending) return Promise.reject(new Error("a read is already pending"));
    return new Promise((resolve, reject) => {
      this.pending = { buffer, offset, length, resolve, reject };
      this.fulfil();
    });
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen || this.gone) throw disconnected(`${this.device.path}: Port is not open`);
    this.device.hostWrote(Buffer.from(buffer));
  }

  async update(options: { baudRate: number }): Promise<void> {
    this.openOptions.baudRate = options.baudRate;
  }
  async set(): Promise<void> {}
  async get(): Promise<{ cts: boolean; dsr: boolean; dcd: boolean }> {
    return { cts: true, dsr: true, dcd: true };
  }
  async getBaudRate(): Promise<{ baudRate: number }> {
    return { baudRate: this.openOptions.baudRate };
  }
  async flush(): Promise<void> {
    this.queue = [];
  }
  async drain(): Promise<void> {}
}

/**
 * The simulated serial bus: a set of devices by path, and the binding that opens them.
 * Pass `onEmit` = the virtual clock's `yieldSoon` so received bytes are stamped at the virtual
 * instant they were sent (the clock waits while the stream delivers them).
 */
export class SimSerialBus {
  private devices = new Map<string, SimSerialDevice>();

  constructor(private readonly onEmit: () => void = () => {}) {}

  /** Connect a simulated device at `path` transmitting at `baudRate`. */
  createDevice(path: string, baudRate: number): SimSerialDevice {
    if (this.devices.has(path)) throw new Error(`a simulated serial device already exists at ${path}`);
    const d = new SimSerialDevice(path, baudRate, this.onEmit);
    this.devices.set(path, d);
    return d;
  }

  device(path: string): SimSerialDevice | undefined {
    return this.devices.get(path);
  }

  /** The node-serialport binding over this bus. */
  readonly binding = {
    list: async () =>
      [...this.devices.values()]
        .filter((d) => d.isPlugged)
        .map((d) => ({
          path: d.path,
          manufacturer: "roadside simulator",
          serialNumber: undefined,
          pnpId: undefined,
          locationId: undefined,
          productId: undefined,
          vendorId: undefined,
        })),
    open: async (options: SimOpenOptions): Promise<SimPortBinding> => {
      const d = this.devices.get(options.path);
      if (!d) {
        throw Object.assign(
          new Error(
            `Error: No such file or directory, cannot open ${options.path} (no simulated device there; create it with SimSerialBus.createDevice)`,
          ),
          {
            code: "ENOENT",
          },
        );
      }
      const port = new SimPortBinding(d, options);
      d.attach(port);
      return port;
    },
  };
}
