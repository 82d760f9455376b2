// The technician's page on the device: the live view of `roadside run` (inputs and their edges this
// window, the open window, latest summaries, outbox, broker, clock), the last hour plotted, and
// doctor's read-only checks on demand.
(() => {
  const { el, value, age, time, json, live } = window.RS;
  const { draw, legend } = window.RS.charts;
  const charts = new Map();
  window.roadsideCharts = charts;
  let hourTimer = null;

  function renderStatus(s) {
    const parts = [s.board, s.site, `${time(s.nowMs)}`, s.clock.synced ? "clock synced" : "clock NOT synced (no NTP yet)"];
    const w = s.window;
    parts.push(`window ${time(w.startMs).slice(11, 19)} +${RS.duration(w.lengthS)}, ${Math.floor((s.nowMs - w.startMs) / 1000)} s in`);
    const b = s.broker;
    parts.push(
      `broker ${b.state}${b.detail ? ` (${b.detail})` : ""}${b.sinceMs ? ` for ${age((s.nowMs - b.sinceMs) / 1000)}` : ""} → ${b.url}`,
    );
    const o = s.outbox;
    parts.push(
      o
        ? `outbox ${o.depth} waiting${o.depth > 0 && o.oldestMs ? `, oldest ${age((s.nowMs - o.oldestMs) / 1000)}` : ""}, next seq ${o.nextSeq}`
        : "outbox ?",
    );
    parts.push(
      `delivered ${s.delivered}${s.lastDelivered ? ` (last seq ${s.lastDelivered.seq}, ${age((s.nowMs - s.lastDelivered.ms) / 1000)} ago)` : ""}`,
    );
    const sum = document.getElementById("summary");
    sum.textContent = parts.filter(Boolean).join(" · ");
    sum.dataset.broker = b.state;

    const tbody = document.querySelector("#inputs tbody");
    tbody.replaceChildren(
      ...s.inputs.map((r) =>
        el(
          "tr",
          { "data-input": r.name, "data-active": String(r.active) },
          el("th", { scope: "row" }, r.name),
          el("td", {}, r.where),
          el("td", { class: r.active ? "st st-online" : "st" }, r.active ? "ACTIVE" : "idle"),
          el("td", { class: "num", "data-col": "edges" }, String(r.edges)),
          el("td", { class: "num" }, String(r.activations)),
          el("td", {}, r.lastEdgeAgoS === null ? "–" : `${r.lastEdgeAgoS.toFixed(1)} s ago`),
        ),
      ),
    );
    if (s.inputs.length === 0) tbody.append(el("tr", {}, el("td", { colspan: 6 }, "no inputs configured")));

    const latest = document.getElementById("latest");
    latest.replaceChildren(
      ...s.latest.map((r) => {
        const dl = el("dl", { class: "values", "data-stream": r.key, "data-seq": r.seq });
        for (const [n, m] of Object.entries(r.measures)) {
          const sup = n.endsWith(".suppressed") && m.vb === true;
          dl.append(
            el(
              "div",
              {},
              el("dt", {}, sup ? n.slice(0, -11) : n),
              el(
                "dd",
                { "data-measure": n, "data-v": m.v, class: sup ? "suppressed" : undefined },
                sup ? "suppressed (< k)" : value(m, r.kind),
              ),
            ),
          );
        }
        return el(
          "section",
          {},
          el("h3", {}, `${r.key} · ${time(r.tMs)} · seq ${r.seq}${r.timeq && r.timeq !== "synced" ? ` · time ${r.timeq}` : ""}`),
          dl,
        );
      }),
    );
    if (s.latest.length === 0) latest.append(el("p", { class: "empty" }, "The first summaries come when the first window closes."));
    document
      .getElementById("events")
      .replaceChildren(...s.events.map((e) => el("li", {}, `${time(e.tMs).slice(11, 19)}  ${e.text}`)).reverse());
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  }

  async function loadHour() {
    const h = await json("/api/hour");
    for (const u of charts.values()) u.destroy();
    charts.clear();
    const root = document.getElementById("streams");
    root.replaceChildren();
    for (const s of h.series.streams) {
      const grid = el("div", { class: "charts" });
      root.append(el("section", { class: "stream" }, el("h3", {}, `${s.kind} / ${s.stream}`), grid));
      for (const c of s.charts) {
        const box = el("figure", { class: "chart", "data-chart": c.id }, el("h3", {}, c.title));
        grid.append(box);
        charts.set(c.id, draw(box, c, { fromMs: h.series.fromMs, toMs: h.now }));
        const lg = legend(c);
        if (lg) box.append(lg);
      }
    }
    if (h.series.streams.length === 0) root.append(el("p", { class: "empty" }, "Nothing committed in the last hour yet."));
  }

  const MARK = { pass: "✓", warn: "!", fail: "✗", skip: "–" };
  document.getElementById("run-doctor").addEventListener("click", async (e) => {
    const btn = e.currentTarget;
    const list = document.getElementById("doctor");
    btn.disabled = true;
    list.replaceChildren(el("li", {}, "running…"));
    try {
      const r = await json("/api/doctor");
      list.replaceChildren(
        ...r.results.map((c) =>
          el(
            "li",
            { "data-status": c.status, class: c.status === "fail" ? "bad" : c.status === "warn" ? "warn" : "ok" },
            `${MARK[c.status] ?? "?"} ${c.label}: ${c.title}${c.fix ? ` — ${c.fix}` : ""}`,
          ),
        ),
      );
    } catch (err) {
      list.replaceChildren(el("li", { class: "bad" }, `the checks could not run: ${err.message}`));
    } finally {
      btn.disabled = false;
    }
  });

  live(
    "/events",
    {
      status: renderStatus,
      msg: () => {
        clearTimeout(hourTimer);
        hourTimer = setTimeout(loadHour, 1000);
      },
    },
    (up) => {
      if (!up) return;
      json("/api/status")
        .then((s) => {
          renderStatus(s);
          return loadHour();
        })
        .catch((err) => {
          document.getElementById("summary").textContent = `cannot load the status: ${err.message}`;
        });
    },
  );
})();
