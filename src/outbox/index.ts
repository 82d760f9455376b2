export type { DropTotals, LossReport, Outbox, OutboxDraft, OutboxMessage, OutboxQuery, OutboxStats, Priority } from "./outbox.js";
export { OutboxError, classify } from "./errors.js";
export type { OutboxErrorCode } from "./errors.js";
export { DEFAULT_MAX_BYTES, ROW_OVERHEAD, SqliteOutbox } from "./sqlite.js";
export type { SqliteOutboxOptions } from "./sqlite.js";
export { openOutbox } from "./open.js";
export type { OpenOutboxOptions, OutboxRecovery } from "./open.js";
