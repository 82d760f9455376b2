import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

/**
 * The far end of a pseudo-terminal, run by python3: a real tty device (/dev/pts/N) that the
 * hardware serial binding opens exactly like /dev/ttyUSB0. A symlink gives it a stable path, so
 * "unplugging" (closing the pty) and "plugging" (a new pty behind the same link) look to the
 * binding like a USB adapter going away and coming back.
 */
const SCRIPT = `
import os, pty, sys, select
link = sys.argv[1]
def newpty():
    m, s = pty.openpty()
    try: os.unlink(link)
    except FileNotFoundError: pass
    os.symlink(os.ttyname(s), link)
    return m, s
m, s = newpty()
print("ready", flush=True)
while True:
    fds = [sys.stdin] + ([m] if m is not None else [])
    r, _, _ = select.select(fds, [], [])
    if m is not None and m in r:
        try: print("recv " + os.read(m, 4096).hex(), flush=True)
        except OSError: pass
    if sys.stdin in r:
        line = sys.stdin.readline()
        if not line: break
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "send" and m is not None:
            os.write(m, bytes.fromhex(arg)); print("ok", flush=True)
        elif cmd == "unplug":
            os.close(m); os.close(s); m = s = None; os.unlink(link); print("ok", flush=True)
        elif cmd == "plug":
            m, s = newpty(); print("ok", flush=True)
        else:
            print("ok", flush=True)
`;

export function hasPython(): boolean {
  return spawnSync("python3", ["-c", "import pty"], { encoding: "utf8" }).status === 0;
}

export interface PtyPeer {
  /** Stable path of the tty (a symlink). */
  path: string;
  send(data: Buffer): Promise<void>;
  received(): Buffer;
  unplug(): Promise<void>;
  plug(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPtyPeer(): Promise<PtyPeer> {
  const dir = mkdtempSync(join(tmpdir(), "roadside-pty-"));
  const script = join(dir, "peer.py");
  writeFileSync(script, SCRIPT);
  const path = join(dir, "ttyPTY0");
  const child = spawn("python3", [script, path], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const received: Buffer[] = [];
  const waiters: ((l: string) => void)[] = [];
  lines.on("line", (l) => {
    if (l.startsWith("recv ")) received.push(Buffer.from(l.slice(5), "hex"));
    else waiters.shift()?.(l);
  });
  const command = (c: string): Promise<void> =>
    new Promise((resolve) => {
      waiters.push(() => resolve());
      child.stdin!.write(`${c}\n`);
    });
  await new Promise<void>((resolve) => waiters.push(() => resolve()));
  return {
    path,
    send: (d) => command(`send ${d.toString("hex")}`),
    received: () => Buffer.concat(received),
    unplug: () => command("unplug"),
    plug: () => command("plug"),
    stop: async () => {
      child.stdin!.end();
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
