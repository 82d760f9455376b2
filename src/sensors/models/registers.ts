/**
 * Register encodings shared by Modbus definitions. Modbus itself only moves 16-bit registers
 * (Modbus Application Protocol v1.1b3 §4.2); 32-bit values span two, and the word order is the
 * device's choice, so each definition says which it uses.
 */

const scratch = new DataView(new ArrayBuffer(4));

/** IEEE 754 float32 from two registers, high word first ("ABCD", big-endian). */
export function float32HighFirst(hi: number, lo: number): number {
  scratch.setUint16(0, hi);
  scratch.setUint16(2, lo);
  return scratch.getFloat32(0);
}

/** The two registers of a float32, high word first. */
export function float32Registers(v: number): [number, number] {
  scratch.setFloat32(0, v);
  return [scratch.getUint16(0), scratch.getUint16(2)];
}

/** uint32 from two registers, high word first. */
export function uint32HighFirst(hi: number, lo: number): number {
  return ((hi << 16) | lo) >>> 0;
}

export function uint32Registers(v: number): [number, number] {
  return [(v >>> 16) & 0xffff, v & 0xffff];
}

/** HART unit codes (HCF_SPEC-183, Common Table 2) for lengths, as mm per unit. */
export const HART_LENGTH_MM: Readonly<Record<number, number>> = Object.freeze({ 44: 304.8, 45: 1000, 47: 25.4, 48: 10, 49: 1 });
/** HART unit code of percent and of degrees Celsius (Common Table 2). */
export const HART_PERCENT = 57;
export const HART_DEG_C = 32;
