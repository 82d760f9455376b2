import type { Measure } from "../aggregate/summary.js";
import { NS_PER_S } from "../clock/clock.js";
import { discloseTags } from "./disclosure.js";
import type { TagCounts } from "./disclosure.js";
import { DistinctCounter } from "./distinct.js";
import { GateBase } from "./gate-base.js";
import type { GateOptions } from "./gate-base.js";
import type { RawIdentifier, TagSink } from "./raw.js";
import { GATE } from "./raw.js";

export interface TagGateOptions extends GateOptions {
  /**
   * A card held in the field is read again and again (RDM6300-class readers repeat the frame
   * every ~100 ms while a tag is present): reads of the same card closer than this are one
   * presentation, s. Default 2.
   */
  repeatS: number;
}

interface TagSegment {
  deposits: number;
  users: DistinctCounter;
}

/**
 * The privacy gate of one RFID reader at an access-controlled bin (pay-as-you-throw): the only
 * code that sees card numbers. Each read becomes a token under the window key at once; a
 * presentation (a card held in the field) counts as one deposit; distinct tokens are the
 * window's distinct users. Tokens and key are dropped at the window end; published per window
 * (`…/presence/{reader}`): deposits and users, after noise and small-count suppression.
 *
 * Repeated reads across a window end: the new window's key gives the same card another token, so
 * a read within `repeatS` of the previous window's last read continues that presentation instead
 * of counting a new deposit (the window end has no other way to tell).
 */
export class TagGate extends GateBase<TagCounts> implements TagSink {
  readonly [GATE] = true as const;
  private seg: TagSegment;
  private readonly repeatNs: number;
  /** Token and time of the last read of the current presentation (token under the live key only). */
  private lastToken = -1;
  private lastNs = -Infinity;
  /** The previous window (or key segment) ended during a presentation. */
  private carry = false;

  constructor(opts: TagGateOptions) {
    super(opts);
    this.repeatNs = opts.repeatS * NS_PER_S;
    this.seg = this.freshSegment();
  }

  read(tag: RawIdentifier, tNs: number): void {
    if (!this.accepting) return;
    const token = this.keys.current().token(tag);
    const continues = tNs - this.lastNs <= this.repeatNs && (token === this.lastToken || this.carry);
    this.carry = false;
    this.lastToken = token;
    this.lastNs = tNs;
    if (continues) return;
    this.seg.deposits++;
    this.seg.users.add(token);
  }

  protected takeSegment(): TagCounts {
    const s = this.seg;
    this.seg = this.freshSegment();
    const out: TagCounts = { deposits: s.deposits, users: s.users.count() };
    s.users.clear();
    // the token dies with its key; remember only that a presentation may be under way
    this.carry = this.lastToken !== -1;
    this.lastToken = -1;
    return out;
  }

  protected add(a: TagCounts, b: TagCounts): TagCounts {
    return { deposits: a.deposits + b.deposits, users: a.users + b.users };
  }

  protected disclose(c: TagCounts, segments: number): Measure[] {
    const out = discloseTags(c, this.disclosure);
    if (segments > 1) out.push({ n: "keys", v: segments });
    return out;
  }

  private freshSegment(): TagSegment {
    return { deposits: 0, users: new DistinctCounter(this.opts.exactLimit, this.opts.hllPrecision) };
  }
}
