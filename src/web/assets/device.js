// The device page: a day (or up to the retention) of each stream, drawn with uPlot from the
// summaries the device published; alarms as a timeline; the manifest in words. Reloaded live.
(() => {
  const { el, value, age, time, json, live } = window.RS;
  const id = document.body.dataset.device;
  const rangeSel = document.getElementById("range");
  const params = new URLSearchParams(location.search);
  /** uPlot instances by chart id; the browser tests read their data from here. */
  const charts = new Map();
  window.roadsideCharts = charts;
  const COLORS = ["#1d6fd8", "#d9480f", "#2b8a3e", "#7048e8", "#c2255c", "#0c8599"];
  const BAND = {
    fault: "rgba(220,50,50,0.18)",
    spill: "rgba(30,100,220,0.2)",
    fire: "rgba(240,120,0,0.25)",
    tilt: "rgba(150,80,200,0.2)",
    cover: "rgba(100,100,100,0.2)",
  };
  const BAND_WORDS = {
    fault: "detector fault",
    spill: "spill",
    fire: "fire",
    tilt: "tilt",
    cover: "cover open",
    suppressed: "suppressed (fewer than k)",
  };
  let hatch = null;
  let data = null;
  let reloadTimer = null;

  function hatchPattern(ctx) {
    if (hatch) return hatch;
    const c = document.createElement("canvas");
    c.width = 8;
    c.height = 8;
    const g = c.getContext("2d");
    g.strokeStyle = "rgba(110,110,110,0.55)";
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(0, 8);
    g.lineTo(8, 0);
    g.stroke();
    hatch = ctx.createPattern(c, "repeat");
    return hatch;
  }

  /** Bands, threshold lines and event marks, drawn under and over the lines. */
  function overlay(chart) {
    return {
      hooks: {
        drawClear: [
          (u) => {
            const { ctx, bbox } = u;
            ctx.save();
            for (const b of chart.bands) {
              const x0 = Math.max(bbox.left, u.valToPos(b.from, "x", true));
              const x1 = Math.min(bbox.left + bbox.width, u.valToPos(b.to, "x", true));
              if (x1 <= x0) continue;
              ctx.fillStyle = b.kind === "suppressed" ? hatchPattern(ctx) : BAND[b.kind];
              ctx.fillRect(x0, bbox.top, Math.max(1, x1 - x0), bbox.height);
            }
            ctx.restore();
          },
        ],
        draw: [
          (u) => {
            const { ctx, bbox } = u;
            ctx.save();
            ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
            for (const l of chart.lines) {
              const y = u.valToPos(l.y, chart.series[0].scale, true);
              if (y < bbox.top || y > bbox.top + bbox.height) continue;
              ctx.strokeStyle = l.label === "overflow" ? "#c62828" : "#9a6700";
              ctx.setLineDash([6, 4]);
              ctx.beginPath();
              ctx.moveTo(bbox.left, y);
              ctx.lineTo(bbox.left + bbox.width, y);
              ctx.stroke();
              ctx.fillStyle = ctx.strokeStyle;
              ctx.fillText(l.label, bbox.left + 4, y - 3);
            }
            ctx.setLineDash([]);
            for (const e of chart.events) {
              const x = u.valToPos(e.t, "x", true);
              if (x < bbox.left || x > bbox.left + bbox.width) continue;
              ctx.strokeStyle = "#2b8a3e";
              ctx.beginPath();
              ctx.moveTo(x, bbox.top);
              ctx.lineTo(x, bbox.top + bbox.height);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  function drawChart(box, chart) {
    const scales = [...new Set(chart.series.map((s) => s.scale))];
    const width = Math.max(280, box.clientWidth || 600);
    const opts = {
      width,
      height: 220,
      scales: { x: { time: true, range: [data.series.fromMs / 1000, Math.max(data.now, data.series.fromMs + 3600000) / 1000] } },
      series: [
        { label: "time (UTC)", value: (_u, v) => (v === null ? "–" : time(v * 1000)) },
        ...chart.series.map((s, i) => ({
          label: `${s.label}${s.unit ? ` (${s.unit})` : ""}`,
          scale: s.scale,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          spanGaps: false,
          points: { show: false },
          value: (_u, v) => (v === null ? "–" : RS.num(v)),
        })),
      ],
      axes: [
        {
          // 24-hour UTC times, with the date when the range spans days
          values: (_u, splits) =>
            splits.map((v) => {
              const t = new Date(v * 1000).toISOString();
              return data.hours > 48 ? `${t.slice(5, 10)} ${t.slice(11, 16)}` : t.slice(11, 16);
            }),
        },
        ...scales.map((sc, i) => ({ scale: sc, side: i === 0 ? 3 : 1, label: sc, size: 56, grid: { show: i === 0 } })),
      ],
      plugins: [overlay(chart)],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    };
    const u = new uPlot(opts, [chart.x, ...chart.series.map((s) => s.values)], box);
    charts.set(chart.id, u);
    return u;
  }

  function legend(chart) {
    const kinds = [...new Set(chart.bands.map((b) => b.kind))];
    const items = kinds.map((k) =>
      el("li", { "data-band": k }, el("span", { class: `sw band-${k}`, "aria-hidden": "true" }), BAND_WORDS[k]),
    );
    if (chart.events.length)
      items.push(el("li", {}, el("span", { class: "sw", "aria-hidden": "true" }), `${chart.events[0].label} (vertical lines)`));
    if (chart.lines.length) items.push(el("li", {}, `dashed: ${chart.lines.map((l) => `${l.label} ${RS.num(l.y)}`).join(", ")}`));
    return items.length ? el("ul", { class: "legend" }, ...items) : null;
  }

  function values(s) {
    if (!s.latest) return null;
    const dl = el("dl", { class: "values", "data-stream": `${s.kind}/${s.stream}`, "data-seq": s.latest.seq, "data-t": s.latest.tMs });
    for (const [n, m] of Object.entries(s.latest.measures)) {
      const sup = n.endsWith(".suppressed") && m.vb === true;
      const name = sup ? n.slice(0, -".suppressed".length) : n;
      dl.append(
        el(
          "div",
          {},
          el("dt", {}, name),
          el(
            "dd",
            { "data-measure": name, "data-v": m.v, "data-suppressed": sup ? "true" : undefined, class: sup ? "suppressed" : undefined },
            sup ? "suppressed (< k)" : value(m, s.kind),
          ),
        ),
      );
    }
    return dl;
  }

  function renderStreams() {
    for (const u of charts.values()) u.destroy();
    charts.clear();
    const root = document.getElementById("streams");
    const sections = [];
    for (const s of data.series.streams) {
      const sec = el(
        "section",
        { class: "stream", "aria-label": `${s.kind} ${s.stream}`, id: `s-${s.kind}-${s.stream}` },
        el(
          "h2",
          {},
          `${s.kind} / ${s.stream}`,
          el("span", { class: "hint" }, ` · ${RS.duration(s.windowS)} windows · latest ${s.latest ? time(s.latest.tMs) : "–"}`),
        ),
        values(s),
      );
      const grid = el("div", { class: "charts" });
      sec.append(grid);
      sections.push([sec, grid, s]);
    }
    root.replaceChildren(...sections.map((x) => x[0]));
    if (sections.length === 0) root.append(el("p", { class: "empty" }, "No summaries in this range yet."));
    for (const [, grid, s] of sections)
      for (const c of s.charts) {
        const box = el("figure", { class: "chart", "data-chart": c.id });
        box.append(el("h3", {}, c.title));
        grid.append(box);
        drawChart(box, c);
        const lg = legend(c);
        if (lg) box.append(lg);
      }
  }

  function renderAlarms() {
    const list = document.getElementById("alarms");
    const strip = document.getElementById("timeline");
    const from = data.series.fromMs;
    const span = Math.max(1, data.now - from);
    const pos = (ms) => `${Math.min(100, Math.max(0, ((ms - from) / span) * 100)).toFixed(3)}%`;
    const items = [];
    const marks = [];
    const open = new Map();
    for (const a of data.series.alarms) {
      const key = `${a.source}/${a.alarm}`;
      if (a.state === "start") open.set(key, a);
      else if (a.state === "end" && open.has(key)) {
        const s = open.get(key);
        open.delete(key);
        const m = el("span", { title: `${key}: ${time(s.tMs)} – ${time(a.tMs)}` });
        m.style.left = pos(s.tMs);
        m.style.width = `calc(${pos(a.tMs)} - ${pos(s.tMs)})`;
        marks.push(m);
      } else if (a.state === "event") {
        const m = el("span", { class: "ev", title: `${key} ${time(a.tMs)}` });
        m.style.left = pos(a.tMs);
        marks.push(m);
      }
      items.push(
        el(
          "li",
          { "data-alarm": a.alarm, "data-state": a.state, "data-source": a.source },
          `${time(a.tMs)} · ${a.source}: ${a.alarm} ${a.state}${a.code !== undefined ? ` (code ${a.code})` : ""}${a.message ? ` — ${a.message}` : ""}`,
        ),
      );
    }
    for (const [key, s] of open) {
      const m = el("span", { title: `${key}: since ${time(s.tMs)} (open)` });
      m.style.left = pos(s.tMs);
      m.style.right = "0";
      marks.push(m);
    }
    strip.replaceChildren(...marks);
    strip.setAttribute("aria-label", `${data.series.alarms.length} alarm messages in range`);
    strip.setAttribute("role", "img");
    list.replaceChildren(...items.reverse());
    if (items.length === 0) list.replaceChildren(el("li", { class: "empty" }, "No alarms in this range."));
  }

  function renderManifest() {
    const root = document.getElementById("manifest");
    const m = data.manifest;
    if (!m) {
      root.replaceChildren(el("p", { class: "empty" }, "The device has not published its manifest (…/manifest) yet."));
      return;
    }
    const parts = [
      el(
        "p",
        {},
        `${m.device}${m.site ? ` at ${m.site}` : ""}, a ${m.board} running ${m.software?.name ?? "roadside"} ${m.software?.version ?? ""}, publishes ${m.streams?.length ?? 0} streams as ${m.encoding ?? "SenML"} (payload schema ${m.payloadSchema}). Config hash ${String(m.configHash ?? "").slice(0, 16)}…`,
      ),
    ];
    const dl = el("dl", {});
    for (const s of m.streams ?? []) {
      dl.append(el("dt", {}, `${s.kind} / ${s.name}${s.windowS ? ` (every ${RS.duration(s.windowS)})` : ""}`));
      dl.append(el("dd", {}, s.description));
      if (s.measures?.length)
        dl.append(el("dd", { class: "hint" }, s.measures.map((x) => `${x.n}${x.u ? ` [${x.u}]` : ""}: ${x.description}`).join("; ")));
    }
    parts.push(dl);
    if (m.notCollected?.length) {
      parts.push(el("h3", {}, "Never collected or kept"));
      parts.push(el("ul", {}, ...m.notCollected.map((t) => el("li", {}, t))));
    }
    const p = m.privacy;
    if (p) {
      parts.push(el("h3", {}, "Privacy"));
      for (const t of p.summary ?? []) parts.push(el("p", {}, t));
      const noise =
        p.noise?.mechanism === "none"
          ? "no noise added"
          : `${p.noise?.mechanism} noise, ε = ${p.noise?.epsilon}, standard deviation ${RS.num(p.noise?.std ?? 0)}`;
      parts.push(
        el(
          "dl",
          { "data-privacy": "" },
          el("dt", {}, "Counts below k are never published"),
          el("dd", { "data-k": p.suppression?.k }, `k = ${p.suppression?.k}`),
          el("dt", {}, "Noise"),
          el("dd", {}, noise),
          el("dt", {}, "Window key"),
          el(
            "dd",
            {},
            `${p.key?.bytes} random bytes in RAM only, replaced at every window end (at most ${RS.duration(p.key?.maxLifetimeS ?? 0)})`,
          ),
          el("dt", {}, "Token"),
          el("dd", {}, p.token),
          el("dt", {}, "Sources"),
          el("dd", {}, (p.sources ?? []).map((s) => `${s.name}: ${s.reads}, ${RS.duration(s.windowS)} windows`).join("; ")),
        ),
      );
    }
    root.replaceChildren(el("div", { class: "manifest" }, ...parts));
  }

  function renderSummary() {
    const r = data.row;
    const parts = [`${r.status}${r.why === "silent" ? " (silent)" : ""}`];
    if (r.site) parts.push(r.site);
    if (r.lastSeenMs) parts.push(`last seen ${age((data.now - r.lastSeenMs) / 1000)} ago`);
    if (r.outboxDepth !== null) parts.push(`outbox ${r.outboxDepth}`);
    if (r.synced !== null) parts.push(r.synced ? "clock synced" : "clock NOT synced");
    if (r.cpuTempC !== null) parts.push(`CPU ${r.cpuTempC.toFixed(0)} °C`);
    if (r.alarms.length) parts.push(`open alarms: ${r.alarms.join(", ")}`);
    const s = document.getElementById("summary");
    s.textContent = parts.join(" · ");
    s.dataset.status = r.status;
  }

  function fillRange(retentionS, hours) {
    const opts = [1, 3, 6, 12, 24, 72, 168, 336, 720, 2160].filter((h) => h * 3600 <= retentionS);
    if (!opts.includes(hours)) opts.push(hours);
    opts.sort((a, b) => a - b);
    rangeSel.replaceChildren(...opts.map((h) => el("option", { value: h, selected: h === hours }, h < 48 ? `${h} h` : `${h / 24} days`)));
  }

  async function load() {
    const hours = Number(params.get("hours")) || 24;
    try {
      data = await json(`/api/device/${encodeURIComponent(id)}?hours=${hours}`);
    } catch (err) {
      document.getElementById("summary").textContent = `cannot load ${id}: ${err.message}`;
      return;
    }
    fillRange(data.retentionS, data.hours);
    renderSummary();
    renderStreams();
    renderAlarms();
    renderManifest();
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  }

  rangeSel.addEventListener("change", () => {
    params.set("hours", rangeSel.value);
    history.replaceState(null, "", `${location.pathname}?${params}`);
    load();
  });
  document.getElementById("range-form").addEventListener("submit", (e) => e.preventDefault());
  let resizeTimer = null;
  addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const u of charts.values()) u.setSize({ width: Math.max(280, u.root.parentElement.clientWidth), height: 220 });
    }, 150);
  });
  load().then(() =>
    live(`/events?device=${encodeURIComponent(id)}`, {
      msg: () => {
        // a burst of messages (a backlog draining) costs one reload
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(load, 1000);
      },
    }),
  );
})();
