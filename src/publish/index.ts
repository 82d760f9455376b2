/**
 * The public face of src/publish/: topics, the SenML envelope and its decoders, the compact tables,
 * the publisher and the byte budget. Other folders import through this file (see docs/architecture.md
 * for the imports that stay direct so as not to load more at start).
 */
export type { BudgetReport } from "./budget.js";
export { ByteBudget, widenLadder } from "./budget.js";
export { BudgetWidening } from "./budget-widening.js";
export { COMPACT_KIND, DEFAULTS, DEFAULTS_RECORD, longName, readShort, UNITS } from "./compact-tables.js";
export type { DecodedMessage } from "./envelope.js";
export { annotateLoss, decodeMessage, SCHEMA_VERSION } from "./envelope.js";
export { Publisher } from "./publisher.js";
export { decodeSenmlCbor, decodeSenmlJson } from "./senml.js";
export { Topics } from "./topics.js";
