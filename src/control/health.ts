/**
 * Health counters, gathered from every component for the `…/health` heartbeat. Components register a
 * provider under their name; a snapshot calls each provider. Providers must be cheap and must never
 * return identifiers or raw signal data.
 */
import type { HealthSection } from "../aggregate/health-section.js";

export type { HealthSection, HealthValue } from "../aggregate/health-section.js";

export class HealthRegistry {
  private providers = new Map<string, () => HealthSection>();

  /** Register (or replace) the provider of one section, e.g. "outbox" or "sensor.manhole1". */
  register(name: string, provider: () => HealthSection): void {
    this.providers.set(name, provider);
  }

  unregister(name: string): void {
    this.providers.delete(name);
  }

  /** Every section now. A provider that throws reports `{ error }` instead of breaking the heartbeat. */
  snapshot(): Record<string, HealthSection> {
    const out: Record<string, HealthSection> = {};
    for (const [name, p] of this.providers) {
      try {
        out[name] = p();
      } catch (err) {
        out[name] = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    return out;
  }
}
