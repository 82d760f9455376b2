import { createHmac, randomFillSync } from "node:crypto";
import type { RawIdentifier } from "./raw.js";

/** Bytes of a window key: HMAC-SHA256's block-size-safe key length of the hash output (RFC 2104 §3). */
export const KEY_BYTES = 32;

/**
 * The key of one window: 32 bytes from node:crypto's CSPRNG, held only in this object's Buffer
 * (never a string, never written anywhere) and zeroed by `destroy()` at the window end.
 *
 * A token is HMAC-SHA256(key, identifier), reduced to its first 52 bits: enough that distinct
 * identifiers do not collide within a window (10,000 tokens: p ≈ 10⁻⁸) and exact in a float64, so
 * sets of tokens are plain `Set<number>` with no strings. Without the key, a token cannot be
 * recomputed from an identifier, and a new key every window means the same identifier gets
 * unrelated tokens in consecutive windows.
 *
 * OpenSSL copies the key into each HMAC context and cleanses the context when it is freed; the
 * digest Buffer is zeroed here as soon as the token is read from it.
 */
export class WindowKey {
  private readonly key: Buffer;
  private alive = true;

  /** @param fill fills the key; default node:crypto's CSPRNG. Tests pass a wrapper to watch the buffer. */
  constructor(fill: (key: Buffer) => void = randomFillSync) {
    // Buffer.alloc, not allocUnsafe: a key must not share Node's pooled slab with other data
    this.key = Buffer.alloc(KEY_BYTES);
    fill(this.key);
  }

  get destroyed(): boolean {
    return !this.alive;
  }

  /** The 52-bit token of an identifier under this key (an integer in [0, 2^52)). */
  token(id: RawIdentifier): number {
    if (!this.alive) throw new Error("window key used after its window closed");
    const digest = createHmac("sha256", this.key).update(id).digest();
    // top 52 bits: 32 from the first word, 20 from the second
    const t = digest.readUInt32BE(0) * 0x100000 + (digest.readUInt32BE(4) >>> 12);
    digest.fill(0);
    return t;
  }

  /** Zero the key. Idempotent. */
  destroy(): void {
    this.key.fill(0);
    this.alive = false;
  }
}
