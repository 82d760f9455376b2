import type { Clock } from "../clock/clock.js";
import type { Rng } from "./rng.js";

/** Drives pins of the simulated board. */
export interface PinDriver {
  setPin(pin: number, value: 0 | 1): void;
}

/** Where a simulated loop's card output is wired. */
export interface SimLoopWiring {
  /** Pin on the simulated board. */
  line: number;
  /** The card pulls the line low for "vehicle" (as the input is configured). */
  activeLow: boolean;
}

/**
 * One output channel of a simulated loop detector card, with the faults a card and its wiring
 * really show. The output is the vehicle presence the scenario sets, overridden by:
 * - stuck on / stuck off: a fail-safe card holding a call on a broken loop, a cut output wire;
 * - chatter: a loose splice or crosstalk, pulses long enough to pass any glitch filter;
 * - bounce: relay contacts bouncing for a millisecond or two at every switch (must never become a vehicle).
 * Changes reach the board at once, at the virtual instant they happen, as a real card's would.
 */
export class CardChannel {
  private vehicle: 0 | 1 = 0;
  private stuck: 0 | 1 | -1 = 0;
  private chatterOn = false;
  private chatterLevel: 0 | 1 = 0;
  private chatterRateHz = 2;
  private chatterEpoch = 0;
  private bounce: { count: number; widthNs: number } | undefined;
  private out: 0 | 1 = 0;
  /** Output transitions written (bounces excluded). */
  transitions = 0;

  constructor(
    private readonly clock: Clock,
    private readonly board: PinDriver,
    private readonly wiring: SimLoopWiring,
    private readonly rng: Rng,
  ) {}

  /** Put the output at rest (no vehicle). */
  reset(): void {
    this.write(0);
  }

  /** The vehicle presence the card detects. */
  setVehicle(level: 0 | 1): void {
    this.vehicle = level;
    this.apply();
  }

  setStuck(mode: 0 | 1 | -1): void {
    this.stuck = mode;
    this.apply();
  }

  setChatter(on: boolean, rateHz = 2): void {
    this.chatterOn = on;
    this.chatterRateHz = rateHz;
    this.chatterEpoch++;
    this.chatterLevel = 0;
    if (on) this.nextChatter(this.chatterEpoch);
    this.apply();
  }

  setBounce(params: { count: number; widthMs: number } | undefined): void {
    this.bounce = params ? { count: params.count, widthNs: params.widthMs * 1e6 } : undefined;
  }

  private nextChatter(epoch: number): void {
    // a pulse of 30–120 ms, then a pause so the mean rate is chatterRateHz
    const onS = this.rng.uniform(0.03, 0.12);
    const offS = Math.max(0.04, this.rng.exponential(Math.max(0.05, 1 / this.chatterRateHz - 0.075)));
    const now = this.clock.monoNs();
    const t1 = Math.round((now + offS * 1e9) / 1000) * 1000;
    const t2 = Math.round((t1 + onS * 1e9) / 1000) * 1000;
    this.clock.setTimer(t1, () => {
      if (epoch !== this.chatterEpoch) return;
      this.chatterLevel = 1;
      this.apply();
      this.clock.setTimer(t2, () => {
        if (epoch !== this.chatterEpoch) return;
        this.chatterLevel = 0;
        this.apply();
        this.nextChatter(epoch);
      });
    });
  }

  private apply(): void {
    const level: 0 | 1 =
      this.stuck === 1 ? 1 : this.stuck === -1 ? 0 : ((this.vehicle | (this.chatterOn ? this.chatterLevel : 0)) as 0 | 1);
    if (level === this.out) return;
    this.write(level);
    this.transitions++;
    const b = this.bounce;
    if (!b) return;
    // contacts bounce: the line flips back and forth a few times within a millisecond or two
    let t = this.clock.monoNs();
    for (let i = 0; i < b.count; i++) {
      t += Math.max(20_000, Math.round((this.rng.uniform(0.05, 1) * (b.widthNs / b.count)) / 1000) * 1000);
      const away = (1 - level) as 0 | 1;
      const at1 = t;
      t += Math.max(20_000, Math.round((this.rng.uniform(0.05, 1) * (b.widthNs / b.count)) / 1000) * 1000);
      const at2 = t;
      this.clock.setTimer(at1, () => {
        if (this.out === level) this.pin(away);
      });
      this.clock.setTimer(at2, () => {
        if (this.out === level) this.pin(level);
      });
    }
  }

  private write(level: 0 | 1): void {
    this.out = level;
    this.pin(level);
  }

  private pin(level: 0 | 1): void {
    this.board.setPin(this.wiring.line, this.wiring.activeLow ? ((1 - level) as 0 | 1) : level);
  }
}
