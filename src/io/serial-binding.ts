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
 */
export async function hardwareSerialBinding(): Promise<BindingLike> {
  const { SerialPort } = await import("serialport");
  const binding = SerialPort.binding as unknown as BindingLike;
  if (process.platform === "win32") return binding;
  const { unixRead } = (await import("@serialport/bindings-cpp/dist/unix-read.js")) as unknown as { unixRead: UnixRead };
  return {
    ...binding,
    list: () => binding.list(),
    open: async (options: unknown) => {
      const port = await binding.open(options);
      patchEofReads(port, unixRead);
      return port;
    },
  };
}

type ReadResult = { bytesRead: number; buffer: Buffer };
type FsRead = (fd: number, buffer: Buffer, offset: number, length: number, position: null) => Promise<ReadResult>;
type UnixRead = (args: { binding: unknown; buffer: Buffer; offset: number; length: number; fsReadAsync?: FsRead }) => Promise<ReadResult>;

interface PortLike {
  fd?: number | null;
  read(buffer: Buffer, offset: number, length: number): Promise<ReadResult>;
}

interface BindingLike {
  list(): Promise<unknown[]>;
  open(options: unknown): Promise<PortLike>;
}

const readAsync = promisify(read) as unknown as FsRead;

/** A read that fails with a disconnect on end of file instead of returning 0 bytes. */
const eofAwareRead: FsRead = async (fd, buffer, offset, length, position) => {
  const r = await readAsync(fd, buffer, offset, length, position);
  if (r.bytesRead === 0) throw Object.assign(new Error("end of file: the device went away"), { code: "EOF", disconnect: true });
  return r;
};

function patchEofReads(port: PortLike, unixRead: UnixRead): void {
  if (typeof port.fd !== "number") return;
  const original = port.read.bind(port);
  port.read = (buffer, offset, length) => {
    // the binding's own argument checks, then its read loop with an end-of-file-aware read
    if (!Buffer.isBuffer(buffer) || buffer.length < offset + length) return original(buffer, offset, length);
    return unixRead({ binding: port, buffer, offset, length, fsReadAsync: eofAwareRead });
  };
}
