// The serial ports an identifier section claims, without its schema: `roadside run` and the
// simulator import this, so zod loads only where a config is validated (issue 15).
import { serialDeviceKey } from "../serial-device.js";

/** What identifierPortNames reads of the identifiers section (identifiers.ts's schema output has this shape). */
interface IdentifierPorts {
  scanners?: Record<string, { port: { path: string } }> | undefined;
  readers?: Record<string, { port: { path: string } }> | undefined;
}

/**
 * What `--record` must never record: the names of identifier sensors, and the devices their ports
 * resolve to (a symlink's target, a Raspberry Pi's header UART under any of its names). A port
 * another sensor opens on one of those devices is not recorded either: its bytes could be the
 * identifier sensor's (validation rejects such configs; a symlink made after validation does not).
 */
export function identifierPortNames(identifiers: IdentifierPorts | undefined): Set<string> {
  const out = new Set<string>();
  for (const group of [identifiers?.scanners ?? {}, identifiers?.readers ?? {}]) {
    for (const [name, s] of Object.entries(group)) {
      out.add(name);
      out.add(serialDeviceKey(undefined, s.port.path));
    }
  }
  return out;
}
