/**
 * The systemd unit of a roadside device: restarted on failure, sandboxed (its own user, a read-only
 * system, no capabilities, only the device files it needs), its outbox in a state directory that
 * survives reboots and upgrades, its log in journald. Pure: `roadside install` writes the text.
 *
 * Targets systemd 247+ (Raspberry Pi OS bullseye ships 247, bookworm 252, trixie 257); nothing here
 * needs newer (no RestartSteps=, which came in 254).
 */
export interface UnitOptions {
  /** Unit name without .service, e.g. `roadside`. */
  name: string;
  /** Absolute path of the node binary. */
  node: string;
  /** Folder of the app (with bin/roadside.js). */
  appDir: string;
  /** Absolute path of the device config. */
  config: string;
  user: string;
  /** Supplementary groups: gpio for /dev/gpiochip*, dialout for serial ports, i2c for /dev/i2c-*. */
  groups: readonly string[];
  /** Device classes the service may open (names from /proc/devices), e.g. `gpiochip`, `ttyUSB`. */
  devices: readonly string[];
  /** Shown in the description, e.g. the device id. */
  label?: string;
  /** The folder of the config, writable by the service so an applied config can be saved. */
  configDir: string;
  /** WatchdogSec= in seconds. Default 30: twice the ping interval with room for a busy Pi Zero. */
  watchdogSec?: number;
}

/** Device classes of a real board: the GPIO character device, UARTs, USB serial adapters, I²C. */
export const BOARD_DEVICES = ["gpiochip", "ttyS", "ttyAMA", "ttyUSB", "ttyACM", "i2c"] as const;
export const BOARD_GROUPS = ["gpio", "dialout", "i2c"] as const;

/** Quote a path for ExecStart= if it needs it (systemd.syntax: C-style quoting). */
function arg(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function systemdUnit(o: UnitOptions): string {
  const lines = [
    "# roadside edge runtime, written by `roadside install`. Regenerate rather than edit:",
    `# roadside install --help. Enable: systemctl daemon-reload && systemctl enable --now ${o.name}`,
    "",
    "[Unit]",
    `Description=roadside edge runtime${o.label ? ` (${o.label})` : ""}`,
    `Documentation=file:${o.appDir}/docs/field-guide.md`,
    // NTP before start where it can be had: windows are then stamped synced from the first one
    "Wants=network-online.target time-sync.target",
    "After=network-online.target time-sync.target",
    // never give up: a device on a pole has nobody to run `systemctl reset-failed`. A crash loop is
    // slowed by RestartSec instead (one attempt per 10 s: a few lines a minute in the journal)
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    // READY=1 when the device runs (config valid, hardware and outbox open, features started), not
    // when the broker answers: `systemctl restart` in an upgrade waits for it, a broker outage must
    // not look like a broken release
    "Type=notify",
    // the notifications come from systemd-notify, a child of node (Node.js has no AF_UNIX datagrams)
    "NotifyAccess=all",
    `ExecStart=${arg(o.node)} ${arg(`${o.appDir}/bin/roadside.js`)} run --config ${arg(o.config)}`,
    // node pings every WatchdogSec/2 from its event loop; a hung loop is killed and restarted
    `WatchdogSec=${o.watchdogSec ?? 30}s`,
    // a Pi Zero 2 W on a slow card takes ~10 s to load node and the app; leave room for a cold cache
    "TimeoutStartSec=120s",
    // any exit restarts it, a bad config (exit 2) included: fixing the file is then all it takes,
    // nobody needs to come back and start the service again
    "Restart=always",
    "RestartSec=10s",
    // SIGTERM to node only: it closes the open windows as partial, drains, and stops its gpiomon itself
    "KillMode=mixed",
    "TimeoutStopSec=30s",
    "Environment=NODE_ENV=production",
    "",
    "# who it runs as",
    `User=${o.user}`,
    `Group=${o.user}`,
    ...(o.groups.length ? [`SupplementaryGroups=${o.groups.join(" ")}`] : []),
    "",
    "# the outbox and sequence counter: /var/lib/roadside, kept across reboots and upgrades ($STATE_DIRECTORY)",
    "StateDirectory=roadside",
    "StateDirectoryMode=0750",
    "",
    `# logs: journald (journalctl -u ${o.name}); roadside writes one JSON object per line without a terminal`,
    "StandardOutput=journal",
    "StandardError=journal",
    `SyslogIdentifier=${o.name}`,
    // lines start with their priority (<3> error, <4> warning…): journalctl -p warning -u NAME
    "SyslogLevelPrefix=yes",
    "",
    "# hardening: a read-only system, no home folders, no privileges, only the devices it reads",
    "ProtectSystem=strict",
    `# a signed config command saves the new config beside the old one (${o.configDir}: root:roadside 0770)`,
    `ReadWritePaths=${arg(o.configDir)}`,
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "NoNewPrivileges=yes",
    "# no core dumps: a crash must not write the RAM (a window's key, in-flight identifiers) to disk",
    "LimitCORE=0",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictSUIDSGID=yes",
    "RestrictRealtime=yes",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallErrorNumber=EPERM",
    // not MemoryDenyWriteExecute: V8's JIT needs writable executable memory
    "UMask=0027",
    "DevicePolicy=closed",
    ...o.devices.map((d) => `DeviceAllow=char-${d} rw`),
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return lines.join("\n");
}
