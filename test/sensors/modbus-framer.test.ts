import { describe, expect, it } from "vitest";
import { modbusSerialClient } from "../../src/sensors/modbus/bus.js";
import { crcOk, readRequest, withCrc } from "../../src/sensors/modbus/crc.js";
import { RtuFramer } from "../../src/sensors/modbus/framer.js";
import { Rng } from "../../src/sim/rng.js";

const SEED = 31337;

describe(`RTU framing over a byte stream (seed ${SEED})`, () => {
  it("computes the Modbus CRC of the standard's example (read 2 registers from 0x006B of unit 0x11)", () => {
    // Modbus over Serial Line v1.02 §6.2.2 / Application Protocol examples: 11 03 00 6B 00 03 → CRC 76 87
    expect(readRequest(0x11, 3, 0x6b, 3).toString("hex")).toBe("1103006b00037687");
    expect(crcOk(Buffer.from("1103006b00037687", "hex"))).toBe(true);
    expect(crcOk(Buffer.from("1103006b00037688", "hex"))).toBe(false);
  });

  it("hands modbus-serial whole answers from any chunking, drops noise, and never throws", async () => {
    const rng = new Rng(SEED);
    const sent: Buffer[] = [];
    const framer = new RtuFramer((d) => sent.push(d));
    framer.opened = true;
    const client = (await modbusSerialClient())(framer);
    client.open(() => {});
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < 2000; i++) {
      const unit = rng.int(1, 247);
      const count = rng.int(1, 10);
      const values = Array.from({ length: count }, () => rng.int(0, 0xffff));
      let got: number[] | undefined;
      client.writeFC3(unit, rng.int(0, 1000), count, (err, res) => {
        if (err) failed++;
        else got = res?.data;
      });
      const pdu = Buffer.alloc(3 + 2 * count);
      pdu[0] = unit;
      pdu[1] = 3;
      pdu[2] = 2 * count;
      values.forEach((v, k) => {
        pdu.writeUInt16BE(v, 3 + 2 * k);
      });
      const noise = Buffer.from(Array.from({ length: rng.int(0, 6) }, () => rng.int(0, 255)).filter((b) => b !== unit));
      const bytes = Buffer.concat([noise, withCrc(pdu)]);
      // arbitrary chunk boundaries, as a tty read returns them
      for (let at = 0; at < bytes.length; ) {
        const n = rng.int(1, 8);
        framer.receive(bytes.subarray(at, at + n));
        at += n;
      }
      if (got) {
        expect(got, `request ${i} (seed ${SEED})`).toEqual(values);
        ok++;
      }
      framer.abandon();
    }
    expect(sent.length).toBe(2000);
    expect(ok).toBe(2000);
    expect(failed).toBe(0);
  });
});
