// Minimal typings for firmata-io 2.x (the Firmata protocol client johnny-five uses; it ships none).
declare module "firmata-io" {
  import type { EventEmitter } from "node:events";
  export interface FirmataOptions {
    reportVersionTimeout?: number;
    samplingInterval?: number;
    skipCapabilities?: boolean;
  }
  export class Firmata extends EventEmitter {
    constructor(transport: EventEmitter & { write(data: Buffer, cb?: (err?: Error | null) => void): unknown }, options?: FirmataOptions);
  }
  const bindTransport: ((transport: unknown) => typeof Firmata) & { Firmata: typeof Firmata };
  export default bindTransport;
}
