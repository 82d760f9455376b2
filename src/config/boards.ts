import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod";

/** A board definition in `boards/*.json`: data, not code, so a new board needs no release. */
export const boardSchema = z
  .strictObject({
    $schema: z.string().optional(),
    id: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .describe("File name without .json; what `device.board` names."),
    name: z.string().describe("Human name of the board."),
    compatible: z
      .array(z.string())
      .describe("Device-tree `compatible` strings (/proc/device-tree/compatible) that identify this board; `doctor` checks them."),
    io: z.enum(["gpiochip", "johnny-five", "sim"]).describe("IO backend for digital inputs."),
    gpio: z.strictObject({
      chipLabel: z.string().describe("Label of the GPIO chip (gpiodetect); chips are found by label, never by number."),
      notes: z.string().optional(),
      lines: z.array(
        z.strictObject({
          line: z.number().int().min(0).describe("Line offset on the chip (BCM GPIO number on a Pi)."),
          name: z.string().describe("Name as printed on pinout diagrams, e.g. GPIO17."),
          pin: z.number().int().min(1).optional().describe("Physical header pin."),
          notes: z.string().optional(),
        }),
      ),
    }),
    serial: z.array(
      z.strictObject({
        name: z.string(),
        path: z.string(),
        hardware: z
          .boolean()
          .optional()
          .describe(
            "Board io sim only: this port is a real tty, read through the kernel's driver and serialport's native binding instead of the simulator's bus (the virtual device's /dev/ttyS1, fed from its host).",
          ),
        notes: z.string().optional(),
      }),
    ),
    i2c: z.array(z.strictObject({ bus: z.number().int(), path: z.string(), notes: z.string().optional() })),
  })
  .describe("roadside board definition");

export type Board = z.infer<typeof boardSchema>;
export type BoardLine = Board["gpio"]["lines"][number];

/** The repository's `boards/` folder (next to `src/` and `dist/`). */
export function defaultBoardsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "boards");
}

/** Every board in a folder, by id. Throws naming the file if one is malformed. */
export function loadBoards(dir = defaultBoardsDir()): Map<string, Board> {
  const out = new Map<string, Board>();
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()) {
    const path = join(dir, f);
    const parsed = boardSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new Error(`${path}: ${first?.path.join(".")}: ${first?.message}`);
    }
    if (parsed.data.id !== f.slice(0, -5)) throw new Error(`${path}: id "${parsed.data.id}" must equal the file name "${f.slice(0, -5)}"`);
    out.set(parsed.data.id, parsed.data);
  }
  return out;
}

/**
 * Find a line on a board from a config reference: a line number (17), a line name ("GPIO17"),
 * or a header pin ({ pin: 11 }).
 */
export function findLine(board: Board, ref: { line?: number | string | undefined; pin?: number | undefined }): BoardLine | undefined {
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
export function hardwareSerialPaths(board: Board): Set<string> {
  return new Set(board.serial.filter((p) => p.hardware === true).map((p) => p.path));
}

/** The device path of a serial port reference: a board port name (`uart0`) or a path (`/dev/…`). */
export function resolveSerialPath(board: Board, ref: string): string | undefined {
  if (ref.startsWith("/")) return ref;
  return board.serial.find((p) => p.name === ref)?.path;
}
