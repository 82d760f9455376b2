import { execFile } from "node:child_process";
import type { IoPlugin } from "./io-plugin.js";

/**
 * The part of the johnny-five IO-plugin contract an I²C chip driver uses (src/sensors/ads1115.ts).
 * Both the board's IO plugin (a Firmata board, the simulator) and `LinuxI2cIo` (the kernel's
 * /dev/i2c-N on a Raspberry Pi) provide it, so one driver and one contract suite serve both.
 *
 * - `i2cConfig` enables the bus; may be a no-op.
 * - `i2cWrite(address, bytes)` writes register pointer then data; errors are reported through
 *   the next read (Firmata gives no write acknowledgement either).
 * - `i2cReadOnce(address, register, n, handler)` sets the pointer and reads `n` bytes; the
 *   handler gets the bytes, or an empty array when the transfer failed (no device answered,
 *   bus error), so the driver counts an error instead of waiting forever.
 */
export type I2cPort = Pick<IoPlugin, "i2cConfig" | "i2cWrite" | "i2cReadOnce">;

/** One combined I²C transfer: write `write` (may be empty), then with a repeated start read `readCount` bytes. */
export type I2cTransfer = (address: number, write: readonly number[], readCount: number) => Promise<number[]>;

const hex = (b: number): string => `0x${(b & 0xff).toString(16).padStart(2, "0")}`;

/**
 * Arguments of Debian i2c-tools' `i2ctransfer` for one combined transfer (`man i2ctransfer`):
 * `-y BUS w3@0x48 0x01 0xc3 0x83` writes three bytes; `-y BUS w1@0x48 0x00 r2` sets the pointer and
 * reads two bytes with a repeated start (the ADS1115 needs no stop between, SBAS444 §8.5.3).
 */
export function i2ctransferArgs(bus: number, address: number, write: readonly number[], readCount: number): string[] {
  const args = ["-y", String(bus)];
  if (write.length > 0) args.push(`w${write.length}@${hex(address)}`, ...write.map(hex));
  if (readCount > 0) args.push(write.length > 0 ? `r${readCount}` : `r${readCount}@${hex(address)}`);
  return args;
}

/** Bytes printed by `i2ctransfer` for its read messages: `0x85 0x83`. Throws on anything else. */
export function parseI2ctransferOutput(stdout: string, readCount: number): number[] {
  const words = stdout
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  const bytes = words.map((w) => (/^0x[0-9a-fA-F]{1,2}$/.test(w) ? Number.parseInt(w, 16) : Number.NaN));
  if (bytes.length !== readCount || bytes.some((b) => Number.isNaN(b)))
    throw new Error(`i2ctransfer printed ${JSON.stringify(stdout.slice(0, 40))}, expected ${readCount} byte(s)`);
  return bytes;
}

/**
 * The kernel's I²C bus through `i2ctransfer` (Debian package i2c-tools), as the GPIO character device
 * is read through `gpiomon`: no native addon to build for every Node and board, and the same tool a
 * technician uses to check the wiring (`i2cdetect -y 1`). A transfer costs one short process
 * (a few ms on a Pi); sensors are sampled every few seconds at most.
 */
export function i2ctransfer(bus: number, command = "i2ctransfer"): I2cTransfer {
  return (address, write, readCount) =>
    new Promise((resolve, reject) => {
      execFile(command, i2ctransferArgs(bus, address, write, readCount), { timeout: 2000 }, (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const why =
            code === "ENOENT"
              ? `${command} not found: install Debian's i2c-tools (apt install i2c-tools)`
              : `${String(stderr).trim() || err.message}; check that I²C is enabled (dtparam=i2c_arm=on), the chip is at ${hex(address)} (i2cdetect -y ${bus}) and the user may open /dev/i2c-${bus} (group i2c)`;
          reject(new Error(`I²C bus ${bus}: ${why}`));
          return;
        }
        try {
          resolve(readCount > 0 ? parseI2ctransferOutput(String(stdout), readCount) : []);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
}

/**
 * A Linux I²C bus as an `I2cPort`. Transfers run one at a time, in the order asked (a write of the
 * config register must reach the chip before the read that polls it). A failed read hands the
 * driver an empty array; failures are counted and the last one kept for health and logs.
 */
export class LinuxI2cIo implements I2cPort {
  errors = 0;
  lastError: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private busy = 0;

  constructor(private readonly transfer: I2cTransfer) {}

  i2cConfig(): void {}

  i2cWrite(address: number, registerOrData: number | number[], data?: number[] | number): void {
    const bytes = Array.isArray(registerOrData)
      ? registerOrData
      : [registerOrData, ...(data === undefined ? [] : Array.isArray(data) ? data : [data])];
    this.run(() => this.transfer(address, bytes, 0)).catch(() => {});
  }

  i2cReadOnce(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): void {
    this.run(() => this.transfer(address, register >= 0 ? [register] : [], bytesToRead)).then(handler, () => handler([]));
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    // an idle bus starts the transfer now, not a microtask later: the chip's conversion time runs
    // from the write, and the driver's poll is timed from the call
    const p = this.busy === 0 ? op() : this.queue.then(op);
    this.busy++;
    this.queue = p
      .catch((err: Error) => {
        this.errors++;
        this.lastError = err.message;
      })
      .finally(() => this.busy--);
    return p;
  }
}

/** A register-level I²C device (the simulator's ADS1115) as a transfer: the double of `i2ctransfer` in tests and simulated Linux boards. */
export function deviceTransfer(
  devices: ReadonlyMap<number, { write(bytes: readonly number[]): void; read(register: number, count: number): number[] }>,
): I2cTransfer {
  return async (address, write, readCount) => {
    const d = devices.get(address);
    if (!d) throw new Error(`no I²C device answers at ${hex(address)}`);
    if (write.length > 0) d.write(write);
    return readCount > 0 ? d.read(-1, readCount) : [];
  };
}
