/**
 * The public face of src/sensors/modbus/: Modbus RTU framing, CRC, the bus and the polling driver. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { EXCEPTION_NAMES, ModbusBus, modbusSerialClient } from "./bus.js";
export type { ModbusResult } from "./bus.js";
export { crcOk, readRequest, withCrc } from "./crc.js";
export { ModbusDriver } from "./driver.js";
export { RtuFramer } from "./framer.js";
