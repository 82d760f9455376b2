// moved to src/clock/backoff.ts (io/ and features/ retry with it too, and sit below mqtt/); import it from there
export { backoffDelay } from "../clock/backoff.js";
