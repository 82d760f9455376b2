// Shared by the roadside pages: DOM building without innerHTML (device text is data, never markup),
// readable units (as src/watch/units.ts prints them in the terminal), and the live event stream.
window.RS = (() => {
  /** Create an element: el("td", { class: "num", "data-col": "drops" }, "12"). */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
    return e;
  }

  function num(v) {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }

  /** A SenML measure as a person reads it: flows in veh/h, ratios in %, speeds in km/h. */
  function value(m, kind) {
    if (!m) return "–";
    if (m.vs !== undefined) return m.vs;
    if (m.vb !== undefined) return m.vb ? "yes" : "no";
    if (m.v === undefined) return "–";
    const v = m.v;
    switch (m.u) {
      case undefined:
      case "count":
        return num(v);
      case "1/s":
        return `${Math.round(v * 3600)} ${kind === "traffic" ? "veh/h" : "/h"}`;
      case "/":
        return `${(v * 100).toFixed(1)} %`;
      case "%":
        return `${v.toFixed(1)} %`;
      case "m/s":
        return `${(v * 3.6).toFixed(1)} km/h`;
      case "km/h":
        return `${v.toFixed(1)} km/h`;
      case "Cel":
        return `${v.toFixed(1)} °C`;
      case "m":
        return `${v.toFixed(2)} m`;
      case "s":
        return duration(v);
      default:
        return `${num(v)} ${m.u}`;
    }
  }

  function duration(s) {
    if (s < 10) return `${s.toFixed(2)} s`;
    if (s < 60) return `${Math.round(s)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${String(Math.round(s % 60)).padStart(2, "0")}s`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
    return `${Math.floor(h / 24)}d ${h % 24}h`;
  }

  function age(s) {
    if (s < 0) s = 0;
    if (s < 100) return `${Math.round(s)}s`;
    if (s < 6000) return `${Math.round(s / 60)}m`;
    if (s < 172800) return `${Math.round(s / 3600)}h`;
    return `${Math.round(s / 86400)}d`;
  }

  function time(ms) {
    const d = new Date(ms);
    return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} UTC`;
  }

  async function json(url) {
    const r = await fetch(url, { headers: { accept: "application/json" } });
    if (!r.ok) throw new Error(`${url}: ${r.status}`);
    return r.json();
  }

  /** Server-sent events; the browser reconnects by itself (retry: 2 s). */
  function live(url, handlers, onState) {
    const es = new EventSource(url);
    for (const [ev, fn] of Object.entries(handlers)) es.addEventListener(ev, (e) => fn(JSON.parse(e.data)));
    es.addEventListener("open", () => onState?.(true));
    es.addEventListener("error", () => onState?.(false));
    return es;
  }

  return { el, value, duration, age, time, json, live, num };
})();
