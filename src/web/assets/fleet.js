// The fleet page: one row per device, sortable and filterable, kept current by server-sent events.
(() => {
  const { el, age, json, live } = window.RS;
  const rows = new Map();
  const tbody = document.querySelector("#fleet tbody");
  const q = document.getElementById("q");
  const statusSel = document.getElementById("status");
  const params = new URLSearchParams(location.search);
  let sortKey = params.get("sort") || "status";
  let sortDir = params.get("dir") === "desc" ? -1 : 1;
  let totals = null;
  let link = "";
  let serverSkewMs = 0;
  let pending = false;
  q.value = params.get("q") || "";
  statusSel.value = params.get("status") || "";

  // offline first: the rows that need someone
  const STATUS_ORDER = { offline: 0, behind: 1, unknown: 2, online: 3 };
  const key = (r, k) => {
    switch (k) {
      case "status":
        return STATUS_ORDER[r.status] ?? 9;
      case "alarms":
        return -r.alarms.length;
      case "synced":
        return r.synced === null ? 2 : r.synced ? 1 : 0;
      case "lastSeenMs":
        return -(r.lastSeenMs ?? 0);
      default:
        return r[k] ?? null;
    }
  };
  function compare(a, b) {
    const x = key(a, sortKey);
    const y = key(b, sortKey);
    if (x === y || (x === null && y === null)) return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return (x < y ? -1 : 1) * sortDir;
  }

  function matches(r) {
    const s = statusSel.value;
    if (s === "alarm" ? r.alarms.length === 0 : s && r.status !== s) return false;
    const t = q.value.trim().toLowerCase();
    if (!t) return true;
    return [r.id, r.site ?? "", ...r.alarms, ...r.faults].some((x) => x.toLowerCase().includes(t));
  }

  function statusText(r) {
    if (r.status === "offline")
      return r.why === "silent" ? "offline (silent)" : r.why === "heartbeat" ? "offline (no heartbeat)" : "offline";
    if (r.status === "behind") return `behind ${age(r.behindS)}`;
    return r.status;
  }

  function row(r, now) {
    const td = (col, text, cls) => el("td", { "data-col": col, class: cls }, text);
    const outbox =
      r.outboxDepth === null
        ? "–"
        : r.outboxDepth > 0 && r.oldestAgeS !== null
          ? `${r.outboxDepth}, ${age(r.oldestAgeS)} old`
          : String(r.outboxDepth);
    const tr = el(
      "tr",
      { "data-id": r.id, "data-status": r.status, class: r.status === "offline" ? "offline" : "" },
      el("th", { scope: "row", "data-col": "id" }, el("a", { href: `/device/${encodeURIComponent(r.id)}` }, r.id)),
      td("status", statusText(r), `st st-${r.status}`),
      td("lastSeen", r.lastSeenMs === null ? "–" : `${age((now - r.lastSeenMs) / 1000)} ago`),
      td("site", r.site ?? "–"),
      td("outbox", outbox, `num${r.outboxDepth > 0 ? " warn" : ""}`),
      td("drops", r.drops === null ? "–" : String(r.drops), `num${r.drops > 0 ? " bad" : ""}`),
      td("clock", r.synced === null ? "–" : r.synced ? "synced" : "NOT NTP", r.synced === false ? "bad" : ""),
      td("cpu", r.cpuTempC === null ? "–" : `${r.cpuTempC.toFixed(0)} °C`, `num${r.cpuTempC >= 80 ? " bad" : ""}`),
      td(
        "alarms",
        r.alarms.length === 0 ? (r.faults.length ? `faults: ${r.faults.join(", ")}` : "none") : r.alarms.join(", "),
        r.alarms.length || r.faults.length ? "bad" : "",
      ),
      td("gaps", r.gaps === 0 ? "0" : `${r.gaps}${r.missing ? ` (${r.missing} missing)` : ""}`, `num${r.missing > 0 ? " warn" : ""}`),
    );
    return tr;
  }

  function render() {
    pending = false;
    const now = Date.now() + serverSkewMs;
    const list = [...rows.values()].filter(matches).sort(compare);
    const frag = document.createDocumentFragment();
    for (const r of list) frag.append(row(r, now));
    tbody.replaceChildren(frag);
    document.getElementById("empty").hidden = list.length > 0 || rows.size === 0;
    for (const th of document.querySelectorAll("#fleet th[data-key]"))
      th.setAttribute("aria-sort", th.dataset.key === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none");
    if (totals) {
      const off = [...rows.values()].filter((r) => r.status === "offline").length;
      document.getElementById("totals").textContent =
        `${rows.size} devices: ${rows.size - off} up, ${off} offline · ${totals.messages} messages · gaps ${totals.gaps}${totals.missing ? ` (${totals.missing} missing)` : ""} · duplicates ${totals.duplicates}${list.length !== rows.size ? ` · showing ${list.length}` : ""}`;
    }
    document.getElementById("link").textContent = link;
    document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
  }
  const schedule = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(render);
    }
  };

  function keepState() {
    const p = new URLSearchParams();
    if (q.value) p.set("q", q.value);
    if (statusSel.value) p.set("status", statusSel.value);
    if (sortKey !== "status") p.set("sort", sortKey);
    if (sortDir < 0) p.set("dir", "desc");
    history.replaceState(null, "", `${location.pathname}${p.size ? `?${p}` : ""}`);
  }
  for (const th of document.querySelectorAll("#fleet th[data-key]"))
    th.querySelector("button").addEventListener("click", () => {
      if (sortKey === th.dataset.key) sortDir = -sortDir;
      else {
        sortKey = th.dataset.key;
        sortDir = 1;
      }
      keepState();
      render();
    });
  q.addEventListener("input", () => {
    keepState();
    schedule();
  });
  statusSel.addEventListener("change", () => {
    keepState();
    schedule();
  });
  document.getElementById("filters").addEventListener("submit", (e) => e.preventDefault());

  function take(data) {
    for (const r of data.rows) rows.set(r.id, r);
    totals = data.totals;
    link = data.title ? `${data.title} · ${data.link}` : link.replace(/ · [^·]*$/, ` · ${data.link}`);
    serverSkewMs = data.now - Date.now();
    schedule();
  }

  // the stream first, then the table: a row that changes in between comes by the stream; after a
  // reconnect (a restarted watch, a phone back from sleep) the whole table is fetched again
  live("/events", { rows: take }, (up) => {
    if (!up) {
      document.body.dataset.live = "down";
      return;
    }
    json("/api/fleet")
      .then((data) => {
        take(data);
        document.body.dataset.live = "up";
      })
      .catch((err) => {
        document.getElementById("totals").textContent = `cannot load the fleet: ${err.message}`;
      });
  });
  // ages move on without messages
  setInterval(schedule, 5000);
})();
