/**
 * What a stage reports into the `…/health` heartbeat: the shape control/health.ts's HealthRegistry
 * collects. Declared here, below control/, so aggregators and sensors report their health without
 * importing the stage that observes them (test/architecture/imports.test.ts).
 */
export type HealthValue = number | string | boolean | null;
export type HealthSection = Record<string, HealthValue>;
