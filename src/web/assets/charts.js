// Charts of the roadside pages (uPlot): lines with gaps where nothing was published, shaded bands
// (detector faults, spills, fire, tilt; suppressed counts hatched), dashed thresholds, event marks.
window.RS.charts = (() => {
  const { el, time } = window.RS;
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

  function draw(box, chart, range) {
    const scales = [...new Set(chart.series.map((s) => s.scale))];
    const width = Math.max(280, box.clientWidth || 600);
    const opts = {
      width,
      height: 220,
      scales: { x: { time: true, range: [range.fromMs / 1000, Math.max(range.toMs, range.fromMs + 3600000) / 1000] } },
      series: [
        { label: "time (UTC)", value: (_u, v) => (v === null ? "–" : time(v * 1000)) },
        ...chart.series.map((s, i) => ({
          label: `${s.label}${s.unit ? ` (${s.unit})` : ""}`,
          scale: s.scale,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          spanGaps: false,
          points: { show: chart.x.length <= 60, size: 4 },
          value: (_u, v) => (v === null ? "–" : RS.num(v)),
        })),
      ],
      axes: [
        {
          // 24-hour UTC times, with the date when the range spans days
          values: (_u, splits) =>
            splits.map((v) => {
              const t = new Date(v * 1000).toISOString();
              return range.toMs - range.fromMs > 172800000 ? `${t.slice(5, 10)} ${t.slice(11, 16)}` : t.slice(11, 16);
            }),
        },
        ...scales.map((sc, i) => ({ scale: sc, side: i === 0 ? 3 : 1, label: sc, size: 56, grid: { show: i === 0 } })),
      ],
      plugins: [overlay(chart)],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    };
    return new uPlot(opts, [chart.x, ...chart.series.map((s) => s.values)], box);
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

  return { draw, legend };
})();
