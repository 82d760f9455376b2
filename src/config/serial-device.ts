import { realpathSync } from "node:fs";
import type { Board } from "./boards.js";
import { resolveSerialPath } from "./board-data.js";

/**
 * The header UART of a Raspberry Pi answers to several names: the board file's `serial0`/`uart0`,
 * Raspberry Pi OS's udev alias /dev/serial0, and the tty behind it (/dev/ttyAMA0, or /dev/ttyS0
 * for the mini UART when Bluetooth keeps the PL011). They are one device: two sensors configured on
 * two of these names would read each other's bytes (a probe scanner's MACs in a manhole's trace).
 */
const PI_HEADER_UART = ["serial0", "uart0", "/dev/serial0", "/dev/ttyAMA0", "/dev/ttyS0"];
const PI_HEADER_UART_KEY = "raspberry-pi:header-uart";

function isRaspberryPi(board: Board | undefined): boolean {
  return board === undefined || board.id.startsWith("raspberry-pi");
}

/** `realpath` that never throws: a path that does not exist (yet) is its own key. */
function real(path: string, realpath: (p: string) => string): string {
  try {
    return realpath(path);
  } catch {
    return path;
  }
}

/**
 * The device a serial port reference resolves to, for telling whether two references are one
 * port: a board port name becomes its path, a symlink (/dev/serial/by-id/…, /dev/serial0) the
 * file it points to, and the names of a Raspberry Pi's header UART one key. Without a board
 * (at run time, for the recorder) the Pi aliases are assumed: treating a port as shared when it is
 * not only keeps it out of a trace.
 */
export function serialDeviceKey(board: Board | undefined, ref: string, realpath: (p: string) => string = realpathSync): string {
  const path = board ? (resolveSerialPath(board, ref) ?? ref) : ref;
  const r = path.startsWith("/") ? real(path, realpath) : path;
  if (isRaspberryPi(board) && (PI_HEADER_UART.includes(ref) || PI_HEADER_UART.includes(path) || PI_HEADER_UART.includes(r)))
    return PI_HEADER_UART_KEY;
  return r;
}
