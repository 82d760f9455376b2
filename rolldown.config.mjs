// The `roadside` command as it runs: dist/ (tsc's output, one file per module) bundled into a few
// chunks in dist/app/, so a device starts in a fraction of the time (issue 15: Node's ES module
// loader pays per file; ~100 modules of ours and ~200 files of mqtt, zod and yaml cost ~200 ms of
// a 700 ms start on a 2-core machine). Dynamic imports stay chunks of their own: a device loads only
// the commands and backends its config uses (doctor, provision, the embedded broker, the web view…).
//
// dist/app/ sits two folders below the package root, as every dist/<folder>/ does, so paths taken
// from import.meta.url (boards/, package.json, src/web/assets/) resolve the same from either.
//
// Only pure-JS packages that every `run` loads are bundled. Native addons (better-sqlite3,
// serialport, cbor-extract through cbor-x), packages that locate files next to themselves
// (node-cron forks its daemon.js, johnny-five), and the large ones a device may never load (aedes,
// modbus-serial, pg, puppeteer-core) stay in node_modules, resolved from dist/app/ as from dist/.
const BUNDLED = new Set(["mqtt", "zod", "yaml"]);
/**
 * Left in node_modules although a bundled package requires them: the optional native speed-ups of ws
 * (absent is fine, bundled is impossible), and mqtt.js's WebSocket and SOCKS transports, which a
 * device loads only for a ws:// or wss:// broker (src/mqtt/connect.ts).
 */
const UNBUNDLED = new Set(["bufferutil", "utf-8-validate", "ws", "socks"]);

/**
 * dist/app/modules.json: which modules each chunk holds (paths from the package root), so a test
 * or a person can tell from the chunks a process loaded which of our modules it loaded.
 */
const moduleMap = {
  name: "roadside-module-map",
  generateBundle(_options, bundle) {
    const root = `${process.cwd()}/`;
    const map = {};
    for (const [file, chunk] of Object.entries(bundle)) {
      if (chunk.type === "chunk") map[file] = chunk.moduleIds.filter((id) => id.startsWith(root)).map((id) => id.slice(root.length));
    }
    this.emitFile({ type: "asset", fileName: "modules.json", source: `${JSON.stringify(map, null, 1)}\n` });
  },
};

const packageOf = (id) => (id.startsWith("@") ? id.split("/").slice(0, 2).join("/") : id.split("/")[0]);
const isBare = (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0");

export default {
  // the config is validated in a worker thread (src/config/load-off-thread.ts: zod and yaml stay out of
  // the device's heap, issue 15); its entry lands beside main.js, where new URL("./config-worker.js") finds it
  input: { main: "dist/cli/main.js", "config-worker": "dist/config/config-worker.js" },
  platform: "node",
  plugins: [moduleMap],
  external: (id, importer) => {
    if (id.startsWith("node:")) return true;
    if (!isBare(id)) return false;
    const pkg = packageOf(id);
    if (UNBUNDLED.has(pkg)) return true;
    // what a bundled package requires comes with it; our own imports are bundled only when listed
    if (importer?.includes("/node_modules/")) return false;
    return !BUNDLED.has(pkg);
  },
  output: {
    dir: "dist/app",
    format: "esm",
    cleanDir: true,
    entryFileNames: "[name].js",
    chunkFileNames: "[name]-[hash].js",
    comments: { legal: true },
  },
};
