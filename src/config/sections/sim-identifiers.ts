import * as z from "zod";
import { duration } from "../types.js";

export const simScannerSchema = z
  .strictObject({
    devicesPerHour: z
      .number()
      .min(0)
      .max(100_000)
      .default(600)
      .describe("Passers-by per hour (at the peak of a diurnal profile). Default 600."),
    profile: z
      .enum(["flat", "diurnal"])
      .default("flat")
      .describe("flat (default): the same rate all day; diurnal: quiet nights, morning and evening peaks."),
    dwell: duration("dwell time").default(90).describe("Mean time a passer-by stays in range. Default 90s."),
    wifiShare: z.number().min(0).max(1).default(0.8).describe("Share of passers-by whose phone sends Wi-Fi probes. Default 0.8."),
    bleShare: z.number().min(0).max(1).default(0.6).describe("Share of passers-by with a Bluetooth LE device advertising. Default 0.6."),
    randomShare: z.number().min(0).max(1).default(0.85).describe("Share of Wi-Fi devices probing with a randomised address. Default 0.85."),
    bleRandomShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.9)
      .describe("Share of BLE devices using random private addresses (rotated). Default 0.9."),
    probeInterval: duration("probe interval").default(20).describe("Mean time between Wi-Fi probe bursts of one device. Default 20s."),
    advInterval: duration("advertising report interval").default(10).describe("Mean time between reports of one BLE device. Default 10s."),
    bleRotation: duration("BLE address rotation")
      .default(900)
      .describe("BLE private address lifetime. Default 15m (Bluetooth Core spec recommendation)."),
    regulars: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .default(200)
      .describe("People who pass again and again (same global addresses on every visit). Default 200."),
    regularShare: z.number().min(0).max(1).default(0.3).describe("Share of visits made by regulars. Default 0.3."),
  })
  .describe("Simulated passers-by seen by one probe scanner.");

export const simReaderSchema = z
  .strictObject({
    users: z.number().int().min(1).max(100_000).default(40).describe("Residents with a card for this bin. Default 40."),
    depositsPerHour: z.number().min(0).max(3600).default(6).describe("Mean deposits per hour. Default 6."),
    hold: duration("card hold time").default(1).describe("Mean time a card is held at the reader. Default 1s."),
    badFrameShare: z.number().min(0).max(1).default(0.02).describe("Share of frames corrupted on the wire (bad checksum). Default 0.02."),
  })
  .describe("Simulated card reads at one access-controlled bin.");

export const simIdentifiersSchema = z
  .strictObject({
    scanners: z.record(z.string(), simScannerSchema).default({}).describe("Simulated traffic by scanner name (identifiers.scanners)."),
    readers: z.record(z.string(), simReaderSchema).default({}).describe("Simulated card reads by reader name (identifiers.readers)."),
  })
  .prefault({})
  .describe("Simulated identifier sources (probe scanners, RFID readers).");

export type SimScannerConfig = z.output<typeof simScannerSchema>;
export type SimReaderConfig = z.output<typeof simReaderSchema>;
