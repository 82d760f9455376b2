import type { Measure } from "../aggregate/summary.js";
import { NS_PER_S } from "../clock/clock.js";
import type { Window } from "../clock/index.js";
import { discloseTags } from "./disclosure.js";
import type { TagCounts } from "./disclosure.js";
import { DistinctCounter } from "./distinct.js";
import { GateBase } from "./gate-base.js";
import type { GateOptions } from "./gate-base.js";
import type { RawIdentifier, TagSink } from "./raw.js";
import { GATE } from "./raw.js";
import { WindowKey } from "./window-key.js";

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
 * Presentations are decided per card: a read continues a presentation when *the same card* was
 * read less than `repeatS` before, whichever cards were read between (A, B, A within 2 s is two
 * deposits, not three) and across window ends. The window key cannot say "same card" across a
 * window end (the next key gives the card an unrelated token), so presentations are matched under
 * a separate presentation key whose tokens live only in a map of the cards read in the last
 * `repeatS`: the key is made when a read finds that map empty and zeroed as soon as it empties
 * again (or at `maxKeyLifetimeS` at the latest), so it outlives a window only while reads keep
 * coming less than `repeatS` apart, and its tokens never count anything.
 */
export class TagGate extends GateBase<TagCounts> implements TagSink {
  readonly [GATE] = true as const;
  private seg: TagSegment;
  private readonly repeatNs: number;
  private readonly maxKeyNs: number;
  /** Presentation key and the cards read under it in the last `repeatS` (token → last read). */
  private presKey: WindowKey | undefined;
  private presSince = 0;
  private readonly recent = new Map<number, number>();

  constructor(opts: TagGateOptions) {
    super(opts);
    this.repeatNs = opts.repeatS * NS_PER_S;
    this.maxKeyNs = opts.maxKeyLifetimeS * NS_PER_S;
    this.seg = this.freshSegment();
  }

  read(tag: RawIdentifier, tNs: number): void {
    if (!this.accepting) return;
    const token = this.keys.current().token(tag);
    for (const [t, last] of this.recent) if (tNs - last > this.repeatNs) this.recent.delete(t);
    if (this.presKey !== undefined && (this.recent.size === 0 || tNs - this.presSince > this.maxKeyNs)) this.dropPresentationKey();
    if (this.presKey === undefined) {
      this.presKey = (this.opts.keys ?? (() => new WindowKey()))();
      this.presSince = tNs;
    }
    const card = this.presKey.token(tag);
    const continues = this.recent.has(card);
    this.recent.set(card, tNs);
    if (continues) return;
    this.seg.deposits++;
    this.seg.users.add(token);
  }

  /** Zero the presentation key and forget its tokens. */
  private dropPresentationKey(): void {
    this.presKey?.destroy();
    this.presKey = undefined;
    this.recent.clear();
  }

  override finalize(closed: Window): void {
    super.finalize(closed);
    // the device stopped: nothing more will be read
    if (!this.accepting) this.dropPresentationKey();
  }

  override destroy(): void {
    this.dropPresentationKey();
    super.destroy();
  }

  protected takeSegment(): TagCounts {
    // a presentation key whose cards all went quiet dies with the window key
    const now = this.opts.clock.monoNs();
    for (const [t, last] of this.recent) if (now - last > this.repeatNs) this.recent.delete(t);
    if (this.recent.size === 0) this.dropPresentationKey();
    const s = this.seg;
    this.seg = this.freshSegment();
    const out: TagCounts = { deposits: s.deposits, users: s.users.count() };
    s.users.clear();
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
