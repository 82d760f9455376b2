// Preloaded into a benchmarked process (`node --import ./mem-report.mjs …`): appends its
// process.memoryUsage() as one JSON line every second to the file named by $MEM_REPORT, so the
// benchmark reads the JS heap of a process it did not write. The timer is unref'd: it keeps nothing alive.
import { appendFileSync } from "node:fs";

const file = process.env.MEM_REPORT;
if (file) {
  setInterval(() => {
    const m = process.memoryUsage();
    appendFileSync(
      file,
      `${JSON.stringify({ t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external })}\n`,
    );
  }, 1000).unref();
}
