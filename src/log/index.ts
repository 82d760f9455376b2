/**
 * The public face of src/log/: the logger and its journald priorities. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { SYSLOG_PRIORITY, isJournalStream, withPriority } from "./journal.js";
export { createLogger, silentLogger } from "./logger.js";
export type { LogLevel, Logger } from "./logger.js";
