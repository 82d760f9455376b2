import type { Outbox, OutboxMessage } from "../outbox/outbox.js";

/**
 * The order in which a connection drains the outbox (docs/delivery.md "Ordering"):
 *
 * 1. **alarms**: every waiting alarm, oldest first, before any routine message;
 * 2. routine messages in two lanes, taken in turn one by one:
 *    - **live**: committed since this connection was made, oldest first;
 *    - **backlog**: committed before it (the outage), oldest first.
 *
 * So after three days offline the current windows go out within one message of being committed,
 * while the backlog drains in sequence order at full speed beside them. Within each lane sequence
 * numbers only increase; across lanes they interleave, and subscribers order by `seq` or `bt`.
 *
 * Cursors move past every message handed out, so one connection sends each message once; a message
 * the broker refused is tried again on the next connection, which starts from the outbox afresh.
 */
export class DrainLanes {
  private liveFrom = 1;
  private alarm = 0;
  private backlog = 0;
  private live = 0;
  private liveTurn = true;

  constructor(private readonly outbox: Outbox) {}

  /** A new connection: everything waiting now is backlog. */
  reset(): void {
    this.liveFrom = this.outbox.stats().nextSeq;
    this.alarm = 0;
    this.backlog = 0;
    this.live = this.liveFrom - 1;
    this.liveTurn = true;
  }

  /** The next message to send, or undefined when nothing is waiting. */
  pick(inFlight: ReadonlySet<number>): OutboxMessage | undefined {
    for (;;) {
      const a = this.outbox.next({ after: this.alarm, priority: "alarm", limit: 1 })[0];
      if (!a) break;
      this.alarm = a.seq;
      if (!inFlight.has(a.seq)) return a;
    }
    for (let tries = 0; tries < 2; tries++) {
      const fromLive = this.liveTurn;
      this.liveTurn = !this.liveTurn;
      for (;;) {
        const m = fromLive
          ? this.outbox.next({ after: this.live, priority: "routine", limit: 1 })[0]
          : this.outbox.next({ after: this.backlog, before: this.liveFrom, priority: "routine", limit: 1 })[0];
        if (!m) break;
        if (fromLive) this.live = m.seq;
        else this.backlog = m.seq;
        if (!inFlight.has(m.seq)) return m;
      }
    }
    return undefined;
  }
}
