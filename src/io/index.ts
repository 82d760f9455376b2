/**
 * The public face of src/io/: the hardware contract and its backends. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { IoError } from "./contract.js";
export type {
  DigitalInputHandlers,
  DigitalInputSpec,
  DigitalInputs,
  Level,
  SerialHandlers,
  SerialOpenOptions,
  SerialPortLink,
  SerialSpec,
  SerialState,
  TimestampSource,
} from "./contract.js";
export { createHardware } from "./factory.js";
export type { Hardware, HardwareBackend, HardwareSource } from "./factory.js";
export { FirmataBoard, firmataPort } from "./firmata.js";
export { GpioChipInputs } from "./gpiochip.js";
export { parseGpiodVersion, parseGpiodetect } from "./gpiod-tools.js";
export type { GpiodCommands } from "./gpiod-tools.js";
export type { IoPlugin, IoPluginPin } from "./io-plugin.js";
export { JohnnyFiveInputs } from "./johnny-five.js";
export { LinuxI2cIo, deviceTransfer, i2ctransfer } from "./linux-i2c.js";
export type { I2cPort } from "./linux-i2c.js";
export { SerialLink, hardwareSerialBinding } from "./serial.js";
