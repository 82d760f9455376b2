/**
 * The public face of src/install/: the systemd unit the installer writes. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { BOARD_DEVICES, BOARD_GROUPS, systemdUnit } from "./unit.js";
