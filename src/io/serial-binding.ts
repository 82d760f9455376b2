import { read } from "node:fs";
import { promisify } from "node:util";

/**
 * The binding of real serial ports: `serialport`'s autodetected `@serialport/bindings-cpp`, loaded on
 * first use (it loads a native addon, which `roadside validate` and simulated runs never need).
 *
 * On Linux and macOS its ports are patched for a field failure: when a USB serial adapter is
 * unplugged, the tty is hung up and read() returns 0 (end of file); bindings-cpp 12–13 retries such
 * reads at once, forever, spinning a core and growing memory until the process dies
 * (serialport/bindings-cpp#162, fix proposed in #164). Here a zero-byte read fails as a disconnect
 * instead, so the stream closes and SerialLink reopens with backoff when the adapter is back.
 *
 * The read loop is bindings-cpp's own (dist/unix-read.js, which the package does not export) written
 * again on the port's public members — `fd`, `isOpen` and `poller`, which LinuxPortBinding and
 * DarwinPortBinding declare — so nothing here imports another package's internals.
 */
export async function hardwareSerialBinding(): Promise<BindingLike> {
  const { SerialPort } = await import("serialport");
  const binding = SerialPort.binding as unknown as BindingLike;
  if (process.platform === "win32") return binding;
  return {
    ...binding,
    list: () => binding.list(),
    open: async (options: unknown) => {
      const port = await binding.open(options);
      patchEofReads(port);
      return port;
    },
  };
}

type ReadResult = { bytesRead: number; buffer: Buffer };

/** The public members of bindings-cpp's Unix port classes this file uses. */
interface PortLike {
  fd?: number | null;
  readonly isOpen?: boolean;
  readonly poller?: { once(event: "readable", callback: (err: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<ReadResult>;
}

interface BindingLike {
  list(): Promise<unknown[]>;
  open(options: unknown): Promise<PortLike>;
}

const readAsync = promisify(read);

/** What bindings-cpp throws for a read on a closed port: serialport's stream checks `canceled`. */
function canceled(): Error {
  return Object.assign(new Error("Port is not open"), { canceled: true });
}

/** bindings-cpp's unixRead, except that end of file fails as a disconnect instead of reading again. */
async function eofAwareRead(port: PortLike, buffer: Buffer, offset: number, length: number): Promise<ReadResult> {
  for (;;) {
    const fd = port.fd;
    if (!port.isOpen || typeof fd !== "number") throw canceled();
    let bytesRead: number;
    try {
      ({ bytesRead } = await readAsync(fd, buffer, offset, length, null));
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { disconnect?: boolean };
      if (e.code === "EAGAIN" || e.code === "EWOULDBLOCK" || e.code === "EINTR") {
        if (!port.isOpen || !port.poller) throw canceled();
        const poller = port.poller;
        await new Promise<void>((resolve, reject) => poller.once("readable", (pe) => (pe ? reject(pe) : resolve())));
        continue;
      }
      // the codes bindings-cpp treats as the device gone: a closed fd, a USB disconnect, a generic error
      if (e.code === "EBADF" || e.code === "ENXIO" || e.code === "UNKNOWN" || e.errno === -1) e.disconnect = true;
      throw e;
    }
    if (bytesRead === 0) throw Object.assign(new Error("end of file: the device went away"), { code: "EOF", disconnect: true });
    return { bytesRead, buffer };
  }
}

function patchEofReads(port: PortLike): void {
  if (typeof port.fd !== "number" || !port.poller) return;
  const original = port.read.bind(port);
  port.read = (buffer, offset, length) => {
    // the binding's own argument checks, then the end-of-file-aware read loop
    if (!Buffer.isBuffer(buffer) || buffer.length < offset + length) return original(buffer, offset, length);
    return eofAwareRead(port, buffer, offset, length);
  };
}
