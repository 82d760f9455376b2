import * as z from "zod";

export const deviceSection = z
  .strictObject({
    id: z
      .string({ error: "device id is required: a unique name for this device, e.g. pole-0042" })
      .describe("Unique device id; appears in every topic ({prefix}/{id}/…) and SenML base name. Letters, digits, _ and - only."),
    board: z
      .string({ error: "board is required: the name of a file in boards/, e.g. raspberry-pi-5 or sim" })
      .describe(
        "Board definition in boards/ (file name without .json): raspberry-pi-5, raspberry-pi-4, raspberry-pi-3, raspberry-pi-zero-2w, sim.",
      ),
    site: z.string().max(200).optional().describe("Where the device is installed, in words (published in the manifest)."),
  })
  .describe("Who this device is and what it runs on.");
