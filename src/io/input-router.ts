import type { Logger } from "../log/logger.js";
import type { DigitalInputs, DigitalInputSpec, Level } from "./contract.js";

type EdgeRoute = (level: Level, tNs: number) => void;
type DropRoute = (count: number) => void;

/**
 * A device's digital inputs and who listens to each: every configured input with a board line is
 * opened on the board's `DigitalInputs`, and its edges (and the edges it lost) go to the one
 * feature that claimed it. Indexed by the input's position in the specs, so an edge costs one array
 * lookup.
 */
export class InputRouter {
  /** The inputs, in the order they are opened (the backend's `index`). */
  readonly specs: readonly DigitalInputSpec[];
  private readonly index = new Map<string, number>();
  /** Per input index: the claiming feature's edge handler. */
  private readonly routes: (EdgeRoute | undefined)[] = [];
  /** Per input index: the claiming feature's dropped-edges handler, if it has one. */
  private readonly dropRoutes: (DropRoute | undefined)[] = [];
  private isOpen = false;

  constructor(
    specs: readonly DigitalInputSpec[],
    private readonly inputs: DigitalInputs,
    private readonly log: Logger,
  ) {
    this.specs = specs;
    for (const [i, s] of specs.entries()) this.index.set(s.name, i);
  }

  /** Give `name`'s edges (and its lost-edge counts) to one feature; throws for an unknown or claimed input. */
  claim(name: string, onEdge: EdgeRoute, onDropped?: DropRoute): { name: string; level: () => Level } {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`input ${JSON.stringify(name)} is not configured`);
    if (this.routes[i]) throw new Error(`input ${JSON.stringify(name)} is already claimed by another feature`);
    this.routes[i] = onEdge;
    if (onDropped) this.dropRoutes[i] = onDropped;
    return { name, level: () => (this.isOpen ? this.inputs.level(i) : 0) };
  }

  /** The configured inputs no feature claimed (their edges are ignored). */
  unclaimed(): string[] {
    return [...this.index].filter(([, i]) => !this.routes[i]).map(([name]) => name);
  }

  /** Open the inputs on the board; `onEdge` sees every edge as the backend delivered it (for `--record`). */
  async open(onEdge?: (input: string, level: Level, tNs: number) => void): Promise<void> {
    await this.inputs.open(this.specs, {
      edge: (index, level, tNs) => {
        this.routes[index]?.(level, tNs);
        if (onEdge) onEdge(this.specs[index]!.name, level, tNs);
      },
      dropped: (index, count) => {
        if (index >= 0) this.dropRoutes[index]?.(count);
        else for (const r of this.dropRoutes) r?.(count); // the backend cannot tell which line: every input may be low
        this.log.warn(
          `${count} edge(s) lost on ${index >= 0 ? this.specs[index]!.name : "the GPIO chip"}; counts of this window may be low`,
        );
      },
      fault: (err) => this.log.error(`input fault: ${err.message}`, { code: err.code }),
      restored: () => this.log.info("inputs restored"),
    });
    this.isOpen = true;
  }

  async close(): Promise<void> {
    await this.inputs.close();
    this.isOpen = false;
  }
}
