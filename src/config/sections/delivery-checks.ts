import type { ConfigIssue } from "../issues.js";
import type { Check } from "../check.js";

/** Cross-field checks of the delivery sections (mqtt, outbox, health, control). */
export const checkDelivery: Check = ({ config, failed }) => {
  const out: ConfigIssue[] = [];
  if (failed.has("mqtt")) return out;
  const m = config.mqtt;
  if (m.backoffMax < m.backoffMin) {
    out.push({
      path: ["mqtt", "backoffMax"],
      message: `backoffMax (${m.backoffMax}s) is below backoffMin (${m.backoffMin}s); make it at least as long`,
    });
  }
  if (m.tls) {
    if (m.url !== undefined && !/^(mqtts|wss|ssl):/i.test(m.url)) {
      out.push({
        path: ["mqtt", "tls"],
        message: `TLS settings need an mqtts:// (or wss://) broker URL, but mqtt.url is ${JSON.stringify(m.url)}; use e.g. mqtts://broker.example:8883`,
      });
    }
    if ((m.tls.cert === undefined) !== (m.tls.key === undefined)) {
      out.push({
        path: ["mqtt", "tls", m.tls.cert === undefined ? "cert" : "key"],
        message: "mutual TLS needs both cert and key (the client certificate and its private key)",
      });
    }
  }
  if (m.passwordFile !== undefined && m.username === undefined) {
    out.push({ path: ["mqtt", "username"], message: "a passwordFile needs a username too; add mqtt.username" });
  }
  return out;
};
