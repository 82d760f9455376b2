import type { TagSink } from "../privacy/raw.js";
import { mintRawIdentifier } from "../privacy/raw.js";

/**
 * Parser of RDM6300-class 125 kHz RFID readers (EM4100 cards), 9600 8N1, TTL (docs/privacy.md
 * "RFID frame format"). Per read the reader sends 14 bytes:
 *
 *     0x02 | 10 ASCII hex: 5 data bytes (version + 32-bit card number) | 2 ASCII hex: checksum | 0x03
 *
 * The checksum is the XOR of the 5 data bytes (RDM6300 datasheet, "Output format"). Readers of the
 * ID-12/ID-20 family send CR LF before 0x03; that is accepted too. A frame with a wrong checksum
 * is an error, counted, never a read. While a card stays in the field the reader repeats its
 * frame; telling repeats from new presentations is the gate's job (it compares tokens, not tags).
 *
 * Privacy: the tag is parsed nibble by nibble into a scratch Buffer (never a string), handed to
 * the gate, and zeroed when the gate returns or the frame fails; every received chunk is zeroed
 * once parsed. Errors are counts only. Never throws on input; memory is fixed.
 */

export type RfidFrameError = "checksum" | "frame";

export interface Rdm6300Options {
  /** The privacy gate. */
  sink: TagSink;
}

const STX = 0x02;
const ETX = 0x03;
const CR = 0x0d;
const LF = 0x0a;
/** Hex digits in a frame: 10 data + 2 checksum. */
const DIGITS = 12;

const enum State {
  Idle,
  Digits,
  Tail,
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x57;
  return -1;
}

export class Rdm6300Parser {
  /** 5 data bytes + checksum byte. */
  private readonly scratch = Buffer.alloc(6);
  /** The data bytes: a view of the scratch, made once. */
  private readonly tag = this.scratch.subarray(0, 5);
  private state = State.Idle;
  private digits = 0;
  private sawCr = false;
  private sawLf = false;

  /** Valid frames handed to the gate since start. */
  accepted = 0;
  /** Bytes outside any frame (line noise, a reader's boot banner). */
  stray = 0;
  /** Rejected frames by reason since start. */
  readonly errors: Record<RfidFrameError, number> = { checksum: 0, frame: 0 };
  private windowErrors = 0;

  constructor(private readonly opts: Rdm6300Options) {}

  get errorCount(): number {
    return this.errors.checksum + this.errors.frame;
  }

  /** Rejected frames since the previous call. */
  takeErrors(): number {
    const n = this.windowErrors;
    this.windowErrors = 0;
    return n;
  }

  /** Bytes of a frame held in parser state (at most 15). */
  get pendingBytes(): number {
    return this.state === State.Idle ? 0 : 1 + this.digits + (this.sawCr ? 1 : 0) + (this.sawLf ? 1 : 0);
  }

  /** Parse a chunk from the serial port, then zero it. */
  feed(chunk: Buffer, tNs: number): void {
    try {
      for (let i = 0; i < chunk.length; i++) this.byte(chunk[i]!, tNs);
    } finally {
      chunk.fill(0);
    }
  }

  /** Forget a partial frame (port reopened). */
  reset(): void {
    if (this.state !== State.Idle) this.fail("frame");
    this.idle();
  }

  private byte(b: number, tNs: number): void {
    switch (this.state) {
      case State.Idle:
        if (b === STX) this.start();
        else this.stray++;
        return;
      case State.Digits: {
        const h = hexValue(b);
        if (h < 0) {
          this.broken(b);
          return;
        }
        const i = this.digits >> 1;
        this.scratch[i] = this.digits % 2 === 0 ? h << 4 : this.scratch[i]! | h;
        if (++this.digits === DIGITS) this.state = State.Tail;
        return;
      }
      case State.Tail:
        if (b === ETX) {
          this.complete(tNs);
          return;
        }
        if (b === CR && !this.sawCr && !this.sawLf) {
          this.sawCr = true;
          return;
        }
        if (b === LF && !this.sawLf) {
          this.sawLf = true;
          return;
        }
        this.broken(b);
        return;
    }
  }

  private complete(tNs: number): void {
    const s = this.scratch;
    const ok = (s[0]! ^ s[1]! ^ s[2]! ^ s[3]! ^ s[4]!) === s[5]!;
    if (!ok) {
      this.fail("checksum");
      this.idle();
      return;
    }
    this.accepted++;
    try {
      this.opts.sink.read(mintRawIdentifier(this.tag), tNs);
    } finally {
      this.idle();
    }
  }

  /** A byte that cannot be in a frame here: the frame is lost; an STX starts the next one. */
  private broken(b: number): void {
    this.fail("frame");
    if (b === STX) this.start();
    else this.idle();
  }

  private start(): void {
    this.scratch.fill(0);
    this.state = State.Digits;
    this.digits = 0;
    this.sawCr = false;
    this.sawLf = false;
  }

  private idle(): void {
    this.scratch.fill(0);
    this.state = State.Idle;
    this.digits = 0;
    this.sawCr = false;
    this.sawLf = false;
  }

  private fail(reason: RfidFrameError): void {
    this.errors[reason]++;
    this.windowErrors++;
  }
}
