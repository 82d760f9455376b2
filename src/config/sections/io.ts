import * as z from "zod";

export const ioSection = z
  .strictObject({
    firmata: z
      .strictObject({
        port: z
          .string()
          .describe(
            "Serial port of the Firmata board: a path (/dev/ttyACM0, /dev/serial/by-id/…) or a serial port name of the board file. Default: the board file's port named firmata.",
          ),
        baudRate: z
          .number()
          .int()
          .positive()
          .default(57600)
          .describe("Baud rate of the Firmata firmware. Default 57600, StandardFirmata's."),
      })
      .optional()
      .describe("For boards with io johnny-five: the Firmata board (an Arduino running StandardFirmata) on USB serial."),
  })
  .optional()
  .describe("Board IO settings beyond the board file.");

/** `io.firmata` only means something on a board read through a Firmata board. */
export function checkIo({
  config,
  board,
}: {
  config: { io?: { firmata?: unknown } | undefined };
  board: { id: string; io: string } | undefined;
}): { path: (string | number)[]; message: string }[] {
  if (config.io?.firmata === undefined || !board || board.io === "johnny-five") return [];
  return [
    {
      path: ["io", "firmata"],
      message: `board ${board.id} reads its inputs through ${board.io}, not a Firmata board; remove io.firmata (it is for boards like arduino-firmata)`,
    },
  ];
}
