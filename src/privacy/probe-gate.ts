import type { Measure } from "../aggregate/summary.js";
import { discloseRadio } from "./disclosure.js";
import type { RadioCounts } from "./disclosure.js";
import { DistinctCounter } from "./distinct.js";
import { GateBase } from "./gate-base.js";
import type { GateOptions } from "./gate-base.js";
import { hllRse } from "./hll.js";
import type { ProbeSink, Radio, RawIdentifier } from "./raw.js";
import { GATE } from "./raw.js";

/**
 * IEEE 802 address bit b1 of the first octet (the "U/L" bit): set on locally administered
 * addresses, which is what MAC randomisation produces (DOMAIN.md §4: `DA:…` random, `70:…` global).
 */
export const LOCALLY_ADMINISTERED = 0x02;

interface RadioSegment {
  random: DistinctCounter;
  global: DistinctCounter;
  sightings: number;
}

interface ProbeCounts {
  wifi: RadioCounts;
  ble: RadioCounts;
  /** Some counter ran past the exact limit into HyperLogLog. */
  hll: boolean;
}

/**
 * The privacy gate of one probe scanner: the only code that sees Wi-Fi and Bluetooth addresses.
 * Each sighting's address becomes a token under the window key at once (the parser zeroes the
 * address when this returns); tokens are counted into distinct counters per radio and address
 * type and dropped with the key at the window end. Published per window (`…/presence/{scanner}`):
 * per radio the distinct addresses, the sightings and the share of randomised addresses, after
 * noise and small-count suppression.
 */
export class ProbeGate extends GateBase<ProbeCounts> implements ProbeSink {
  readonly [GATE] = true as const;
  private seg: { wifi: RadioSegment; ble: RadioSegment };

  constructor(opts: GateOptions) {
    super(opts);
    this.seg = this.freshSegment();
  }

  sighting(radio: Radio, address: RawIdentifier, _rssiDbm: number, _tNs: number): void {
    if (!this.accepting) return;
    const token = this.keys.current().token(address);
    const r = this.seg[radio];
    if ((address[0]! & LOCALLY_ADMINISTERED) !== 0) r.random.add(token);
    else r.global.add(token);
    r.sightings++;
  }

  protected takeSegment(): ProbeCounts {
    const s = this.seg;
    this.seg = this.freshSegment();
    const counts = (r: RadioSegment): RadioCounts => ({ random: r.random.count(), global: r.global.count(), sightings: r.sightings });
    const out: ProbeCounts = {
      wifi: counts(s.wifi),
      ble: counts(s.ble),
      hll: !(s.wifi.random.exact && s.wifi.global.exact && s.ble.random.exact && s.ble.global.exact),
    };
    for (const r of [s.wifi, s.ble]) {
      r.random.clear();
      r.global.clear();
    }
    return out;
  }

  protected add(a: ProbeCounts, b: ProbeCounts): ProbeCounts {
    const sum = (x: RadioCounts, y: RadioCounts): RadioCounts => ({
      random: x.random + y.random,
      global: x.global + y.global,
      sightings: x.sightings + y.sightings,
    });
    return { wifi: sum(a.wifi, b.wifi), ble: sum(a.ble, b.ble), hll: a.hll || b.hll };
  }

  protected disclose(c: ProbeCounts, segments: number): Measure[] {
    const out = [...discloseRadio("wifi", c.wifi, this.disclosure), ...discloseRadio("ble", c.ble, this.disclosure)];
    out.push({ n: "distinct", vs: c.hll ? "hll" : "exact" });
    if (c.hll) out.push({ n: "rse", u: "/", v: Math.round(hllRse(this.opts.hllPrecision) * 1e6) / 1e6 });
    if (segments > 1) out.push({ n: "keys", v: segments });
    return out;
  }

  private freshSegment(): { wifi: RadioSegment; ble: RadioSegment } {
    const radio = (): RadioSegment => ({
      random: new DistinctCounter(this.opts.exactLimit, this.opts.hllPrecision),
      global: new DistinctCounter(this.opts.exactLimit, this.opts.hllPrecision),
      sightings: 0,
    });
    return { wifi: radio(), ble: radio() };
  }
}
