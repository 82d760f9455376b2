// Minimal typings for the parts of johnny-five 2.x that roadside uses (the package ships none).
declare module "johnny-five" {
  import type { EventEmitter } from "node:events";
  export interface BoardOptions {
    io?: unknown;
    id?: string;
    repl?: boolean;
    debug?: boolean;
    sigint?: boolean;
    timeout?: number;
  }
  export class Board extends EventEmitter {
    constructor(options?: BoardOptions);
    readonly io: unknown;
    readonly isReady: boolean;
  }
  export interface ExpanderOptions {
    controller: string;
    address?: number;
    board?: Board;
  }
  export class Expander extends EventEmitter {
    constructor(options: ExpanderOptions | string);
  }
  const five: { Board: typeof Board; Expander: typeof Expander };
  export default five;
}

// The Board class alone (the package's index requires every component): what src/io/johnny-five.ts imports.
declare module "johnny-five/lib/board.js" {
  import type { Board } from "johnny-five";
  const BoardClass: typeof Board;
  export default BoardClass;
}
