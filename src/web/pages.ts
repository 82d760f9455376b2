/**
 * The HTML shells of the pages: structure only; the data comes from /api/… and /events, drawn by
 * the scripts in src/web/assets/. No inline script or style (the CSP forbids both).
 */
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function shell(title: string, body: string, scripts: string[], data: Record<string, string> = {}): string {
  const attrs = Object.entries(data)
    .map(([k, v]) => ` data-${k}="${esc(v)}"`)
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/app.css">
${scripts.map((s) => `<script src="/assets/${s}" defer></script>`).join("\n")}
</head>
<body${attrs}>
<a class="skip" href="#main">Skip to content</a>
${body}
</body>
</html>
`;
}

export function fleetPage(title: string): string {
  return shell(
    title,
    `<header class="bar"><h1>${esc(title)}</h1><p id="totals" class="totals" aria-live="polite">connecting…</p><p id="link" class="link"></p></header>
<main id="main">
<form class="filters" id="filters" role="search">
  <label>Filter <input type="search" id="q" name="q" placeholder="device, site, alarm…" autocomplete="off"></label>
  <label>Status <select id="status" name="status">
    <option value="">all</option><option value="online">online</option><option value="offline">offline</option>
    <option value="behind">behind</option><option value="alarm">with open alarms</option><option value="unknown">unknown</option>
  </select></label>
</form>
<div class="table-wrap">
<table id="fleet" class="fleet">
<caption class="sr">Devices; select a column header to sort</caption>
<thead><tr>
  <th scope="col" data-key="id"><button type="button">Device</button></th>
  <th scope="col" data-key="status"><button type="button">Status</button></th>
  <th scope="col" data-key="lastSeenMs"><button type="button">Last seen</button></th>
  <th scope="col" data-key="site"><button type="button">Site</button></th>
  <th scope="col" data-key="outboxDepth"><button type="button">Outbox</button></th>
  <th scope="col" data-key="drops"><button type="button">Drops</button></th>
  <th scope="col" data-key="synced"><button type="button">Clock</button></th>
  <th scope="col" data-key="cpuTempC"><button type="button">CPU</button></th>
  <th scope="col" data-key="alarms"><button type="button">Alarms</button></th>
  <th scope="col" data-key="gaps"><button type="button">Seq gaps</button></th>
</tr></thead>
<tbody></tbody>
</table>
</div>
<p id="empty" class="empty" hidden>No device matches.</p>
</main>`,
    ["common.js", "fleet.js"],
    { page: "fleet" },
  );
}

export function devicePage(title: string, device: string): string {
  return shell(
    `${device} · ${title}`,
    `<header class="bar"><p class="crumbs"><a href="/">Fleet</a> › <span>${esc(device)}</span></p>
<h1 id="name">${esc(device)}</h1><p id="summary" class="totals" aria-live="polite">loading…</p></header>
<main id="main">
<form class="filters" id="range-form">
  <label>Show the last <select id="range" name="hours"></select></label>
</form>
<section id="streams" aria-label="Streams"></section>
<section aria-labelledby="alarms-h"><h2 id="alarms-h">Alarms</h2><div id="timeline" class="timeline"></div><ol id="alarms" class="alarms" reversed></ol></section>
<section aria-labelledby="manifest-h"><h2 id="manifest-h">What this device measures</h2><div id="manifest"></div></section>
</main>`,
    ["uPlot.iife.min.js", "common.js", "charts.js", "device.js"],
    { page: "device", device },
  );
}

export function statusPage(device: string): string {
  return shell(
    `${device} · roadside`,
    `<header class="bar"><h1 id="name">${esc(device)}</h1><p id="summary" class="totals" aria-live="polite">loading…</p></header>
<main id="main">
<section aria-labelledby="inputs-h"><h2 id="inputs-h">Inputs</h2><div class="table-wrap"><table id="inputs" class="fleet">
<thead><tr><th scope="col">Input</th><th scope="col">Line</th><th scope="col">State</th><th scope="col">Edges this window</th><th scope="col">On</th><th scope="col">Last edge</th></tr></thead>
<tbody></tbody></table></div></section>
<section aria-labelledby="latest-h"><h2 id="latest-h">Latest summaries</h2><div id="latest"></div></section>
<section aria-labelledby="hour-h"><h2 id="hour-h">Last hour</h2><div id="streams"></div></section>
<section aria-labelledby="doctor-h"><h2 id="doctor-h">Checks</h2>
<p><button type="button" id="run-doctor">Run doctor's checks</button> <span class="hint">read-only: nothing is changed on the device</span></p>
<ol id="doctor" class="alarms"></ol></section>
<section aria-labelledby="events-h"><h2 id="events-h">Recent events</h2><ol id="events" class="alarms" reversed></ol></section>
</main>`,
    ["uPlot.iife.min.js", "common.js", "charts.js", "status.js"],
    { page: "status", device },
  );
}
