import { readFileSync } from "node:fs";
import type { Board } from "../config/boards.js";

/** Where Linux on a device-tree board (every Raspberry Pi) names the machine. */
export const DEVICE_TREE_COMPATIBLE = "/proc/device-tree/compatible";
export const DEVICE_TREE_MODEL = "/proc/device-tree/model";

/** What the device tree says this machine is, or undefined off device-tree hardware (a PC, a VM). */
export interface MachineIdentity {
  /** `compatible` strings, most specific first, e.g. ["raspberrypi,5-model-b", "brcm,bcm2712"]. */
  compatible: string[];
  /** Human model, e.g. "Raspberry Pi 5 Model B Rev 1.0". */
  model: string | undefined;
}

/** The device tree's `compatible` is NUL-separated strings (devicetree specification §2.3.1). */
export function parseCompatible(raw: string): string[] {
  return raw
    .split("\0")
    .map((s) => s.trim())
    .filter(Boolean);
}

export function readMachine(read: (path: string) => string = (p) => readFileSync(p, "utf8")): MachineIdentity | undefined {
  let compatible: string;
  try {
    compatible = read(DEVICE_TREE_COMPATIBLE);
  } catch {
    return undefined;
  }
  let model: string | undefined;
  try {
    model = read(DEVICE_TREE_MODEL).replace(/\0/g, "").trim();
  } catch {
    model = undefined;
  }
  return { compatible: parseCompatible(compatible), model };
}

/**
 * The board definition that matches a machine: the one whose `compatible` list contains the
 * machine's most specific string (a Pi 4 and a Pi 400 share the SoC string brcm,bcm2711, so the
 * board string decides; the SoC string is only a fallback).
 */
export function matchBoard(machine: MachineIdentity, boards: ReadonlyMap<string, Board>): Board | undefined {
  for (const c of machine.compatible) {
    for (const b of boards.values()) if (b.compatible.includes(c)) return b;
  }
  return undefined;
}
