import { isIP } from "node:net";

export interface Listen {
  host: string;
  port: number;
}

/**
 * `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (loopback). Returns an error message naming the fix when
 * the text is not an address a server can listen on.
 */
export function parseListen(text: string): Listen | string {
  const m = /^(?:\[([0-9A-Fa-f:.%a-z]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535))
    return `${JSON.stringify(text)} is not HOST:PORT; write e.g. 127.0.0.1:8080, [::1]:8080 or 169.254.10.1:8080`;
  const host = m[1] ?? (m[2] === "" ? "127.0.0.1" : m[2]!);
  if (host !== "localhost" && isIP(host) === 0) return `${JSON.stringify(host)} is not an IP address; write e.g. 127.0.0.1 or 0.0.0.0`;
  return { host, port };
}

/**
 * Loopback (127.0.0.0/8, ::1, localhost) or link-local (169.254.0.0/16, fe80::/10: a laptop on a
 * cable at the pole, RFC 3927 / RFC 4862): reachable only by someone at the device, so no token.
 */
export function isLocalOnly(host: string): boolean {
  const h = host.toLowerCase().replace(/%.*$/, "");
  if (h === "localhost" || h === "::1") return true;
  if (isIP(h) === 4) return h.startsWith("127.") || h.startsWith("169.254.");
  if (isIP(h) === 6) return /^fe[89ab][0-9a-f]:/.test(h);
  return false;
}
