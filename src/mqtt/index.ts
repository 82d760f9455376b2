/**
 * The public face of src/mqtt/: the MQTT session and the embedded broker. Other folders import through this file
 * (importers still naming a module directly move here as they are next edited).
 */
export { startEmbeddedBroker } from "./embedded.js";
export type { EmbeddedBroker } from "./embedded.js";
export { loadTransport, redactUrl } from "./secrets.js";
export { MqttSession } from "./session.js";
export type { MqttSessionOptions, SessionCounters, SessionState } from "./session.js";
