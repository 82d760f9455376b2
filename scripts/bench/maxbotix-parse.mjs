// Throughput and memory of the MaxBotix parsers: 64 MB of seeded random bytes (with good frames
// mixed in) per model, in 1–4096-byte chunks. Prints MB/s, frames and heap growth.
// Run: npm run build && node --expose-gc scripts/bench/maxbotix-parse.mjs
import { MAXBOTIX_MODELS, MaxbotixParser, maxbotixFrame } from "../../dist/sensors/maxbotix.js";
import { Rng } from "../../dist/sim/rng.js";

const MB = Number(process.argv[2] ?? 64);
const SEED = 20260105;
// pre-generate the chunks so the figure is the parser's, not the generator's
const rng = new Rng(SEED);
const pool = Buffer.alloc(8 * 1024 * 1024);
for (let i = 0; i < pool.length; i++) {
  const r = rng.next();
  pool[i] = r < 0.6 ? rng.int(0, 255) : r < 0.7 ? 0x52 : r < 0.75 ? 0x0d : rng.int(0x30, 0x39);
}
for (const [id, model] of Object.entries(MAXBOTIX_MODELS)) {
  const frame = Buffer.from(maxbotixFrame(model, (model.minReport + 50) * model.mmPerUnit));
  for (let off = 0; off + frame.length < pool.length; off += 997) frame.copy(pool, off);
  let ranges = 0;
  const p = new MaxbotixParser(model, (kind) => {
    if (kind === 0) ranges++;
  });
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  let sent = 0;
  let off = 0;
  const r2 = new Rng(SEED + 1);
  while (sent < MB * 1024 * 1024) {
    const n = r2.int(1, 4096);
    if (off + n > pool.length) off = 0;
    p.push(pool.subarray(off, off + n), sent);
    off += n;
    sent += n;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  globalThis.gc?.();
  const grow = process.memoryUsage().heapUsed - heap0;
  console.log(
    `${id.padEnd(9)} ${(sent / 1048576).toFixed(0)} MB in ${s.toFixed(3)} s = ${(sent / 1048576 / s).toFixed(1)} MB/s; ranges ${ranges}, no-target ${p.noTarget}, min-range ${p.minRange}, garbage ${p.garbageBytes} B, partial ${p.partialFrames}; heap ${grow >= 0 ? "+" : ""}${(grow / 1024).toFixed(0)} KiB${globalThis.gc ? "" : " (run with --expose-gc for a clean figure)"}`,
  );
}
