import type { Clock, TimerHandle } from "../clock/index.js";
import type { Level } from "../io/contract.js";

/**
 * A mechanical switch on a digital input (manhole cover, bin lid reed switch, tilt ball switch),
 * debounced in time: a change counts once the new level has held for `debounceNs`, and is reported
 * with the time of the change itself. Manhole covers rock under passing wheels and ball tilt
 * switches rattle in the wind, so the debounce here is seconds, not the milliseconds of a loop card.
 *
 * Switches change a few times an hour, so one clock timer per change is fine.
 */
export class DebouncedSwitch {
  private stable: Level;
  private candidate: Level | -1 = -1;
  private candT = 0;
  private timer: TimerHandle | undefined;
  /** Changes that did not hold (bounce, rocking). */
  bounces = 0;

  constructor(
    private readonly clock: Clock,
    private readonly debounceNs: number,
    private readonly onChange: (level: Level, tNs: number) => void,
    initial: Level = 0,
  ) {
    this.stable = initial;
  }

  get level(): Level {
    return this.stable;
  }

  /** A change is waiting to settle (the switch is moving). */
  get unsettled(): boolean {
    return this.candidate !== -1;
  }

  /** Set the level read at open, without reporting a change. */
  init(level: Level): void {
    this.stable = level;
  }

  /** A raw edge from the input. */
  edge(level: Level, tNs: number): void {
    if (this.candidate !== -1 && level !== this.candidate) {
      // back to where it was before it settled: a bounce
      this.cancel();
      this.bounces++;
      if (level === this.stable) return;
    }
    if (level === this.stable) return;
    if (this.candidate === level) return;
    this.candidate = level;
    this.candT = tNs;
    this.timer = this.clock.setTimer(tNs + this.debounceNs, () => {
      this.timer = undefined;
      const l = this.candidate as Level;
      this.candidate = -1;
      this.stable = l;
      this.onChange(l, this.candT);
    });
  }

  stop(): void {
    this.cancel();
  }

  private cancel(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.candidate = -1;
  }
}
