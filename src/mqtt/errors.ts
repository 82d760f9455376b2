import { redactUrl } from "./secrets.js";

/** MQTT 3.1.1 CONNACK return codes and MQTT 5 reason codes that a technician can act on. */
const CONNACK: Record<number, string> = {
  2: "the broker rejected the client id; set mqtt.clientId to something unique",
  3: "the broker is unavailable; it will be retried",
  4: "bad user name or password; check mqtt.username and the password file",
  5: "not authorised; check the broker's ACL and the credentials (mqtt.username, mqtt.passwordFile, client certificate)",
  133: "the broker rejected the client id; set mqtt.clientId to something unique",
  134: "bad user name or password; check mqtt.username and the password file",
  135: "not authorised; check the broker's ACL and the credentials (mqtt.username, mqtt.passwordFile, client certificate)",
  136: "the broker is unavailable; it will be retried",
  137: "the broker is busy; it will be retried",
  138: "this device is banned by the broker",
};

/** Node TLS error codes (OpenSSL verify errors) → what to check. */
const TLS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the broker's certificate does not chain to a trusted CA; set mqtt.tls.ca to the CA that signed it",
  SELF_SIGNED_CERT_IN_CHAIN: "the broker's certificate chain ends in a CA this device does not trust; set mqtt.tls.ca to that CA",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the broker uses a self-signed certificate; set mqtt.tls.ca to it",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the broker's certificate issuer is not trusted; set mqtt.tls.ca to the CA that signed it",
  CERT_HAS_EXPIRED: "the broker's certificate has expired (or this device's clock is wrong: check the time)",
  CERT_NOT_YET_VALID: "the broker's certificate is not valid yet (is this device's clock set? a Pi without RTC needs NTP)",
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the broker's certificate is for another host name; use the name in the certificate in mqtt.url, or set mqtt.tls.servername",
};

const NET: Record<string, string> = {
  ECONNREFUSED: "nothing listens there; check the broker's host and port, and that it runs",
  ENOTFOUND: "the host name does not resolve; check mqtt.url and the DNS",
  EAI_AGAIN: "DNS is not answering; check the network",
  ETIMEDOUT: "the connection timed out; check the network path and firewall",
  EHOSTUNREACH: "the host is unreachable; check the network",
  ENETUNREACH: "no route to the network; check the link (cellular modem, cable)",
  ECONNRESET: "the connection was reset; if it repeats at once, the broker may require TLS or a client certificate",
};

/** One log line for a connection error: what happened and what to check. Never contains secrets. */
export function explainError(err: Error & { code?: number | string }, url: string): string {
  const where = redactUrl(url);
  const code = err.code;
  if (typeof code === "number" && CONNACK[code]) return `broker ${where} refused the connection: ${CONNACK[code]}`;
  if (typeof code === "string" && TLS[code]) return `TLS with ${where} failed (${code}): ${TLS[code]}`;
  if (typeof code === "string" && NET[code]) return `cannot reach ${where} (${code}): ${NET[code]}`;
  if (/certificate|handshake|alert/i.test(err.message))
    return `TLS with ${where} failed: ${err.message}; check mqtt.tls (ca, cert, key) against the broker's TLS settings`;
  return `MQTT error with ${where}: ${err.message}`;
}
