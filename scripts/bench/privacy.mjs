#!/usr/bin/env node
// Privacy pipeline figures: parser throughput and memory under fuzz, gate throughput (one HMAC per
// identifier), memory of exact sets and sketches, and HyperLogLog accuracy against 1.04/√m.
// Build first (`npm run build`), then: node scripts/bench/privacy.mjs [--quick]
import { performance } from "node:perf_hooks";
import { ProbeScannerParser } from "../../dist/sensors/probe-scanner.js";
import { Rdm6300Parser } from "../../dist/sensors/rdm6300.js";
import { ProbeGate, TagGate, HyperLogLog, hllRse } from "../../dist/privacy/index.js";
import { GATE } from "../../dist/privacy/raw.js";
import { VirtualClock } from "../../dist/clock/virtual.js";
import { silentLogger } from "../../dist/log/logger.js";
import { Rng } from "../../dist/sim/rng.js";
import { scannerLine, rdm6300Frame } from "../../dist/sim/identifier-bytes.js";

const quick = process.argv.includes("--quick");
const MB = 1024 * 1024;
const SEED = 20261123;
const gc = globalThis.gc ?? (() => {});
const fmt = (x, d = 1) => x.toFixed(d);
const heapMB = () => {
  gc();
  return process.memoryUsage().heapUsed / MB;
};

function chunked(buf, rng, feed) {
  for (let o = 0; o < buf.length; ) {
    const n = rng.int(1, 256);
    feed(Buffer.from(buf.subarray(o, o + n)));
    o += n;
  }
}

function randomBytes(n, rng) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (rng.next() * 256) | 0;
  return b;
}

const nullProbe = { [GATE]: true, sighting() {} };
const nullTag = { [GATE]: true, read() {} };

console.log(`roadside privacy bench (seed ${SEED}, node ${process.version}${quick ? ", quick" : ""})`);

// --- parsers ---
{
  const rng = new Rng(SEED);
  const size = (quick ? 2 : 10) * MB;
  const lines = [];
  let total = 0;
  while (total < size) {
    const mac = Buffer.from(Array.from({ length: 6 }, () => rng.int(0, 255)));
    const l = scannerLine(rng.chance(0.5) ? "wifi" : "ble", mac, -rng.int(30, 99));
    lines.push(l);
    total += l.length;
  }
  const valid = Buffer.concat(lines);
  const noise = randomBytes(size, rng);
  for (const [label, data] of [
    ["probe scanner, valid lines", valid],
    ["probe scanner, random bytes", noise],
  ]) {
    const p = new ProbeScannerParser({ sink: nullProbe });
    const h0 = heapMB();
    const t0 = performance.now();
    chunked(data, new Rng(SEED + 1), (c) => p.feed(c, 0));
    const ms = performance.now() - t0;
    console.log(
      `${label}: ${fmt(data.length / MB)} MB in ${fmt(ms, 0)} ms = ${fmt(data.length / MB / (ms / 1000))} MB/s; ${p.accepted} sightings, ${p.errorCount} errors; heap ${fmt(h0)} → ${fmt(heapMB())} MB`,
    );
  }
  const frames = [];
  total = 0;
  while (total < size) {
    const f = rdm6300Frame(Buffer.from(Array.from({ length: 5 }, () => rng.int(0, 255))), rng.chance(0.05));
    frames.push(f);
    total += f.length;
  }
  for (const [label, data] of [
    ["RDM6300, frames (5 % bad checksum)", Buffer.concat(frames)],
    ["RDM6300, random bytes", noise],
  ]) {
    const p = new Rdm6300Parser({ sink: nullTag });
    const h0 = heapMB();
    const t0 = performance.now();
    chunked(data, new Rng(SEED + 2), (c) => p.feed(c, 0));
    const ms = performance.now() - t0;
    console.log(
      `${label}: ${fmt(data.length / MB)} MB in ${fmt(ms, 0)} ms = ${fmt(data.length / MB / (ms / 1000))} MB/s; ${p.accepted} reads, ${p.errorCount} errors, ${p.stray} stray bytes; heap ${fmt(h0)} → ${fmt(heapMB())} MB`,
    );
  }
}

// --- gate: one HMAC-SHA256 per identifier ---
{
  const clock = new VirtualClock();
  const opts = {
    name: "b",
    clock,
    logger: silentLogger,
    sink: () => {},
    k: 5,
    noise: { mechanism: "none", epsilon: 1, sensitivity: 1 },
    maxKeyLifetimeS: 900,
    hllPrecision: 14,
  };
  for (const [label, exactLimit, n] of [
    ["exact sets", 1_000_000, quick ? 50_000 : 200_000],
    ["HyperLogLog (p = 14)", 0, quick ? 50_000 : 200_000],
  ]) {
    const gate = new ProbeGate({ ...opts, exactLimit });
    const id = Buffer.alloc(6);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      id.writeUInt32BE(i, 2);
      id[0] = i & 1 ? 0xda : 0x70;
      gate.sighting(i & 2 ? "wifi" : "ble", id, -60, 0);
    }
    const ms = performance.now() - t0;
    console.log(`gate, ${label}: ${n} distinct identifiers in ${fmt(ms, 0)} ms = ${fmt(n / (ms / 1000) / 1000)} k identifiers/s`);
    gate.destroy();
  }
  const tag = new TagGate({ ...opts, exactLimit: 10_000, repeatS: 2 });
  const t0 = performance.now();
  const t = Buffer.alloc(5);
  for (let i = 0; i < 50_000; i++) {
    t.writeUInt32BE(i, 1);
    tag.read(t, i * 3e9);
  }
  console.log(`tag gate: 50000 reads in ${fmt(performance.now() - t0, 0)} ms`);
}

// --- memory of distinct counting ---
{
  const rng = new Rng(SEED + 3);
  const h0 = heapMB();
  const s = new Set();
  for (let i = 0; i < 10_000; i++) s.add(Math.floor(rng.next() * 2 ** 52));
  const h1 = heapMB();
  console.log(
    `exact set of 10,000 tokens: ${fmt((h1 - h0) * 1024, 0)} KiB of heap (${fmt(((h1 - h0) * MB) / 10_000, 0)} B/token); HyperLogLog p = 14: ${new HyperLogLog(14).bytes / 1024} KiB, p = 12: ${new HyperLogLog(12).bytes / 1024} KiB`,
  );
  void s.size;
}

// --- HyperLogLog accuracy ---
{
  for (const p of [12, 14]) {
    for (const n of quick ? [1_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000]) {
      const trials = n >= 1_000_000 ? 10 : n >= 100_000 ? 30 : 100;
      const errs = [];
      for (let s = 1; s <= trials; s++) {
        const rng = new Rng(SEED + s * 7919 + n + p);
        const h = new HyperLogLog(p);
        for (let i = 0; i < n; i++) h.add(Math.floor(rng.next() * 0x100000) * 0x100000000 + Math.floor(rng.next() * 0x100000000));
        errs.push(h.estimate() / n - 1);
      }
      const mean = errs.reduce((a, b) => a + b, 0) / trials;
      const sd = Math.sqrt(errs.reduce((a, b) => a + (b - mean) ** 2, 0) / (trials - 1));
      const maxAbs = Math.max(...errs.map(Math.abs));
      console.log(
        `HLL p = ${p}, n = ${n}: mean error ${fmt(mean * 100, 3)} %, sd ${fmt(sd * 100, 3)} % (1.04/√m = ${fmt(hllRse(p) * 100, 4)} %), worst ${fmt(maxAbs * 100, 2)} % over ${trials} trials`,
      );
    }
  }
}
