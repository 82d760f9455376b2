// What the device's runtime needs of a board definition, without its schema: the runtime imports
// this, so zod (≈6.5 MB of live heap, issue 15) loads only where a config or board is validated.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The parts of a board definition (boards.ts's `Board`, checked by its schema) these helpers read:
 * declared here, not imported, so this module imports nothing from the schema's (no cycle).
 */
interface LineData {
  line: number;
  name: string;
  pin?: number | undefined;
}
interface BoardData<L extends LineData = LineData> {
  gpio: { lines: readonly L[] };
  serial: readonly { name: string; path: string; hardware?: boolean | undefined }[];
}

/** The repository's `boards/` folder (next to `src/` and `dist/`). */
export function defaultBoardsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "boards");
}

/**
 * Find a line on a board from a config reference: a line number (17), a line name ("GPIO17"),
 * or a header pin ({ pin: 11 }).
 */
export function findLine<L extends LineData>(
  board: BoardData<L>,
  ref: { line?: number | string | undefined; pin?: number | undefined },
): L | undefined {
  const lines = board.gpio.lines;
  if (ref.pin !== undefined) return lines.find((l) => l.pin === ref.pin);
  if (typeof ref.line === "number") return lines.find((l) => l.line === ref.line);
  if (typeof ref.line === "string") {
    const want = ref.line.toUpperCase();
    return (
      lines.find((l) => l.name.toUpperCase() === want) ?? (/^\d+$/.test(want) ? lines.find((l) => l.line === Number(want)) : undefined)
    );
  }
  return undefined;
}

/** Device paths of the ports a simulated board reads through the OS (`hardware: true`). */
export function hardwareSerialPaths(board: BoardData): Set<string> {
  return new Set(board.serial.filter((p) => p.hardware === true).map((p) => p.path));
}

/** The device path of a serial port reference: a board port name (`uart0`) or a path (`/dev/…`). */
export function resolveSerialPath(board: BoardData, ref: string): string | undefined {
  if (ref.startsWith("/")) return ref;
  return board.serial.find((p) => p.name === ref)?.path;
}
