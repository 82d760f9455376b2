// The device page: a day (or up to the retention) of each stream, drawn with uPlot from the
// summaries the device published; alarms as a timeline; the manifest in words. Reloaded live.
(() => {
  const { el, value, age, time, json, live } = window.RS;
  const { draw, legend } = window.RS.charts;
  const id = document.body.dataset.device;
  const rangeSel = document.getElementById("range");
  const params = new URLSearchParams(location.search);
  /** uPlot instances by chart id; the browser tests read their data from here. */
  const charts = new Map();
  window.roadsideCharts = charts;
  let data = null;
  let reloadTimer = null;

  /** The newest window as published; diagnostics (quality.*, class.*) folded away. */
  function values(s) {
    if (!s.latest) return null;
    const attrs = { class: "values", "data-stream": `${s.kind}/${s.stream}`, "data-seq": s.latest.seq, "data-t": s.latest.tMs };
    const main = el("dl", attrs);
    const more = el("dl", { class: "values" });
    for (const [n, m] of Object.entries(s.latest.measures)) {
      const sup = n.endsWith(".suppressed") && m.vb === true;
      const name = sup ? n.slice(0, -".suppressed".length) : n;
      const dd = el(
        "dd",
        { "data-measure": name, "data-v": m.v, "data-suppressed": sup ? "true" : undefined, class: sup ? "suppressed" : undefined },
        sup ? "suppressed (< k)" : value(m, s.kind),
      );
      (/^(quality|class|headway|gap|length)\./.test(n) ? more : main).append(el("div", {}, el("dt", {}, name), dd));
    }
    if (more.childElementCount > 0)
      main.append(el("details", { class: "more" }, el("summary", {}, `${more.childElementCount} more`), more));
    return main;
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
        charts.set(c.id, draw(box, c, { fromMs: data.series.fromMs, toMs: data.now }));
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
    const parts = [`${r.status}${r.why ? { silent: " (silent)", heartbeat: " (no heartbeat)", status: "" }[r.why] : ""}`];
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
  // the stream first, then the data: nothing published in between is missed, and a reconnect reloads
  live(
    `/events?device=${encodeURIComponent(id)}`,
    {
      msg: () => {
        // a burst of messages (a backlog draining) costs one reload
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(load, 1000);
      },
    },
    (up) => {
      if (up) load();
    },
  );
})();
