import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import { defaultBoardsDir } from "./board-data.js";

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

// the zod-free helpers live in board-data.ts (the device's runtime imports them without zod); kept here for other importers
export { defaultBoardsDir, findLine, hardwareSerialPaths, resolveSerialPath } from "./board-data.js";
