import type { FrameModel } from "./types.js";

/**
 * MaxBotix ultrasonic rangefinders, serial output (DOMAIN.md §2). Every model sends, at 9600 8N1,
 * an ASCII `R`, a fixed number of ASCII digits and a carriage return, free-running while its pin 4
 * (ranging start/stop) is open or high. Units and the reserved values differ per model.
 */
const serial = { baudRate: 9600, dataBits: 8, parity: "none", stopBits: 1 } as const;
const hints = {
  garbled: "check baudRate (MaxBotix sensors send 9600 8N1) and the signal polarity (RS-232 vs TTL)",
  noTarget: "check the mounting, the beam path and for an obstruction or a flooded sensor",
};
const base = {
  manufacturer: "MaxBotix",
  principle: "ultrasonic",
  measures: [{ quantity: "distance", unit: "mm" }],
  serial,
  hints,
} as const;

export const MAXBOTIX_DEFINITIONS: readonly FrameModel[] = [
  {
    ...base,
    id: "hrxl",
    interface: "serial-frames",
    name: "HRXL-MaxSonar-WR (5 m)",
    // "Serial output": R + 4 ASCII digits in mm + CR, 9600 8N1. Range 300–4999 mm; targets closer
    // than 300 mm read 300; 5000 = no target.
    frame: { digits: 4, mmPerUnit: 1, minReport: 300, noTargetFrom: 5000 },
    minRangeMm: 300,
    maxRangeMm: 4999,
    datasheet: {
      title: "HRXL-MaxSonar-WR Series datasheet (MB7360, MB7369, MB7380, MB7389)",
      edition: "MaxBotix, as published",
      section: "Serial output",
      verified: true,
    },
  },
  {
    ...base,
    id: "hrxl-10m",
    interface: "serial-frames",
    name: "HRXL-MaxSonar (10 m)",
    // same frame as the 5 m models; 9999 = no target
    frame: { digits: 4, mmPerUnit: 1, minReport: 300, noTargetFrom: 9999 },
    minRangeMm: 300,
    maxRangeMm: 9998,
    datasheet: {
      title: "HRXL-MaxSonar-WR Series datasheet, 10 m models (MB7363, MB7366, MB7383, MB7386)",
      edition: "MaxBotix, as published",
      section: "Serial output",
      verified: true,
    },
  },
  {
    ...base,
    id: "xl",
    interface: "serial-frames",
    name: "XL-MaxSonar (cm)",
    // "Pin 5 serial output": R + 3 ASCII digits in cm + CR. Minimum report 20 cm (closer targets
    // read 20); 765 cm is the maximum and means no target.
    frame: { digits: 3, mmPerUnit: 10, minReport: 20, noTargetFrom: 765 },
    minRangeMm: 200,
    maxRangeMm: 7640,
    datasheet: {
      title: "XL-MaxSonar-WR/WRC datasheet (MB70xx)",
      edition: "MaxBotix, as published",
      section: "Pin 5 serial output",
      verified: true,
    },
  },
  {
    ...base,
    id: "lv",
    interface: "serial-frames",
    name: "LV-MaxSonar-EZ (inches)",
    // "Pin 5-TX": R + 3 ASCII digits in inches (max 255) + CR, RS-232 polarity at TTL levels.
    // Objects from 0 to 6 in read 6; range ends at 254 in, so 255 means nothing in range.
    frame: { digits: 3, mmPerUnit: 25.4, minReport: 6, noTargetFrom: 255 },
    minRangeMm: 152.4,
    maxRangeMm: 6451.6,
    datasheet: {
      title: "LV-MaxSonar-EZ Series datasheet (MB1000–MB1040)",
      edition: "MaxBotix, as published",
      section: "Pin 5-TX",
      verified: true,
    },
  },
];
