import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { assets } from "./assets.js";

/**
 * Every page and asset is ours and served from here; the policy forbids anything else (no CDN, no
 * inline script or style attribute, no framing), so a page that works in the tests works offline.
 */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface WebServerOptions {
  host: string;
  port: number;
  /** Handlers tried in order after /assets/; the first that returns true answered. */
  handlers: Handler[];
  /** Required on every request when set: `Authorization: Bearer T`, or `?token=T` once (then a cookie). */
  token?: string | undefined;
}

const COOKIE = "roadside_token";

export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    ...extra,
  });
  res.end(body);
}

export const sendJson = (res: ServerResponse, value: unknown, status = 200): void =>
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value));

export const sendHtml = (res: ServerResponse, html: string): void => send(res, 200, "text/html; charset=utf-8", html);

/** Node's built-in HTTP server with the security headers, the assets, and the token gate. */
export class WebServer {
  private server: Server | undefined;

  constructor(private readonly opts: WebServerOptions) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      void this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", `internal error: ${err.message}\n`);
        else res.destroy();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const a = server.address() as AddressInfo;
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private authorised(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const token = this.opts.token;
    if (token === undefined) return true;
    const given =
      /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ??
      new RegExp(`(?:^|;\\s*)${COOKIE}=([^;]+)`).exec(req.headers.cookie ?? "")?.[1] ??
      url.searchParams.get("token") ??
      "";
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length === b.length && timingSafeEqual(a, b)) {
      if (url.searchParams.has("token")) {
        // keep the token out of the address bar and the history: a cookie from now on
        url.searchParams.delete("token");
        res.writeHead(303, {
          location: url.pathname + url.search,
          "set-cookie": `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        });
        res.end();
        return false;
      }
      return true;
    }
    send(res, 401, "text/plain; charset=utf-8", "this page needs the token from web.tokenFile: open it as /?token=…\n");
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      // read-only: nothing on these pages changes anything
      send(res, 405, "text/plain; charset=utf-8", "read-only: only GET\n", { allow: "GET, HEAD" });
      return;
    }
    if (url.pathname.startsWith("/assets/")) {
      const a = assets().get(url.pathname.slice("/assets/".length));
      if (a) send(res, 200, a.type, a.body, { "cache-control": "max-age=3600" });
      else send(res, 404, "text/plain; charset=utf-8", "no such asset\n");
      return;
    }
    if (url.pathname === "/favicon.ico") {
      const a = assets().get("icon.svg")!;
      send(res, 200, a.type, a.body, { "cache-control": "max-age=86400" });
      return;
    }
    if (!this.authorised(req, res, url)) return;
    for (const h of this.opts.handlers) if (await h(req, res, url)) return;
    send(res, 404, "text/plain; charset=utf-8", `nothing at ${url.pathname}\n`);
  }
}

/** Server-sent events (EventSource): each client gets events it asked for; dead ones are dropped. */
export class SseHub<F> {
  private readonly clients = new Set<{ res: ServerResponse; filter: F }>();
  private timer: NodeJS.Timeout | undefined;

  /** Keep a response open as an event stream. */
  add(req: IncomingMessage, res: ServerResponse, filter: F): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      connection: "keep-alive",
    });
    res.write("retry: 2000\n\n");
    const c = { res, filter };
    this.clients.add(c);
    req.on("close", () => this.clients.delete(c));
    // a comment now and then keeps proxies and phones from closing an idle stream
    this.timer ??= setInterval(() => {
      for (const x of this.clients) x.res.write(": keep-alive\n\n");
    }, 15_000).unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Send `data` to every client whose filter passes. */
  send(event: string, data: unknown, pass: (f: F) => boolean = () => true): void {
    let text: string | undefined;
    for (const c of this.clients) {
      if (!pass(c.filter)) continue;
      text ??= `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      c.res.write(text);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
