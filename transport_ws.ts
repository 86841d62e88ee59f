/**
 * MCP over WebSocket for Deno (`Deno.upgradeWebSocket`) and Bun
 * (`Bun.serve` websocket handlers). One connection is one session; one text
 * frame is one JSON-RPC message. Nothing here knows MCP methods.
 *
 * @module
 */

import type { Channel, McpServer, Session } from "./server.ts";

/** Options of {@linkcode websocketHandler} and {@linkcode serve}. */
export interface WebSocketOptions {
  /** The endpoint path. Default `"/mcp"`. */
  path?: string;
  /** Largest text frame accepted, in bytes; larger ones close the socket with 1009. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Open connections at most; further upgrades get 503. Default 10,000. */
  maxConnections?: number;
  /** Bytes queued to a client that does not read before it is closed with 1008. Default 8 MiB. */
  maxBufferedBytes?: number;
  /**
   * Milliseconds of silence before a keep-alive ping; a peer that has not
   * answered one keepAlive later is closed and its handlers aborted. 0
   * disables. Default 30,000. (Deno's timer has whole-second steps.)
   */
  keepAlive?: number;
  /**
   * Origins allowed to connect from a browser. Requests without `Origin` are
   * always allowed. Default: loopback origins only (`localhost`,
   * `127.0.0.1`, `[::1]`). `"*"` allows every origin.
   */
  allowedOrigins?: string[] | "*" | ((origin: string) => boolean);
  /**
   * Runs before the upgrade. Return anything but `undefined`, `null` or
   * `false` to accept: it becomes `ctx.auth`. Return a `Response` to
   * refuse with it; return nothing, `false` or throw to refuse with 401
   * (a throw is also logged, once per hook). {@linkcode bearerAuth} is a
   * ready hook for a shared token.
   */
  authenticate?: (request: Request) => unknown;
  /** Realm named in the `WWW-Authenticate` header of a 401. Default `"mcp"`. */
  realm?: string;
}

/** Options of {@linkcode WebSocketHandler.close}. */
export interface CloseOptions {
  /** Milliseconds to let requests in flight finish before their handlers are aborted. Default 10,000. */
  timeout?: number;
}

/** The subset of Bun's `Server` that {@linkcode WebSocketHandler.fetch} uses. */
export interface BunServerLike {
  /** Upgrades a request to a WebSocket. */
  upgrade(req: Request, options: { headers?: Record<string, string>; data: unknown }): boolean;
}

/** The subset of Bun's `ServerWebSocket` the handler uses. */
export interface BunSocketLike {
  /** Connection state attached at upgrade. */
  data: unknown;
  /** Sends a frame; returns bytes sent, -1 when queued under backpressure, 0 when dropped. */
  send(data: string): number;
  /** Sends a ping frame. */
  ping?(): unknown;
  /** Closes with a code and reason. */
  close(code?: number, reason?: string): void;
  /** Bytes queued. */
  getBufferedAmount?(): number;
}

/** Bun's `websocket` handler object, for `Bun.serve({ websocket })`. */
export interface BunWebSocketHandlers {
  /** A socket opened. */
  open(ws: BunSocketLike): void;
  /** A frame arrived. */
  message(ws: BunSocketLike, message: string | Uint8Array): void;
  /** A socket closed. */
  close(ws: BunSocketLike, code: number, reason: string): void;
  /** A pong arrived. */
  pong(ws: BunSocketLike): void;
  /** Largest frame in bytes; Bun closes with 1009 beyond it. */
  maxPayloadLength: number;
  /** Seconds without traffic before Bun closes the socket; 0, since the handler pings by itself. */
  idleTimeout: number;
  /** Whether Bun sends pings of its own; false, since the handler pings by itself. */
  sendPings: boolean;
  /** Bytes queued before backpressure. */
  backpressureLimit: number;
  /** Whether Bun closes a socket over the backpressure limit. */
  closeOnBackpressureLimit: boolean;
}

/**
 * A WebSocket endpoint for an {@linkcode McpServer}, to mount beside your
 * own routes. `fetch` works on Deno (`Deno.serve(handler.fetch)`) and on Bun
 * (`Bun.serve({ fetch: handler.fetch, websocket: handler.websocket })`).
 */
export interface WebSocketHandler {
  /**
   * Handles a request: upgrades it at the endpoint path, refuses it with
   * 403, 401, 426 or 503, or answers 404 for other paths. Deno:
   * `Deno.serve(handler.fetch)`; the answer is always a `Response`.
   */
  fetch(request: Request): Promise<Response>;
  /**
   * Bun: pass Bun's server too. A successful upgrade returns `undefined`, as
   * `Bun.serve` expects.
   */
  fetch(request: Request, bunServer: BunServerLike): Promise<Response | undefined>;
  /** Bun's websocket handlers; pass them to `Bun.serve`. */
  readonly websocket: BunWebSocketHandlers;
  /** Open connections. */
  readonly connections: number;
  /**
   * Shuts down gracefully: refuses new connections and requests, lets
   * requests in flight finish (up to `timeout`), sends their responses, then
   * closes every socket with 1001.
   */
  close(options?: CloseOptions): Promise<void>;
}

interface Conn {
  session?: Session;
  auth: unknown;
  close(code: number, reason: string): void;
  /** Resolves when the socket has really closed (its close frame is out). */
  ended: Promise<void>;
  /** Bun only: a pong (or any frame) arrived since the last keep-alive ping. */
  alive?: boolean;
  ping?(): void;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

// deno-lint-ignore no-explicit-any
const runtime = globalThis as any;

/**
 * Creates the WebSocket endpoint for `server`.
 *
 * @example Deno, beside other routes
 * ```ts
 * import { McpServer, websocketHandler } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * const mcp = websocketHandler(server, { path: "/mcp" });
 * Deno.serve((req) => new URL(req.url).pathname === "/mcp" ? mcp.fetch(req) : new Response("hello"));
 * ```
 *
 * @example Deno, the endpoint alone
 * ```ts
 * import { McpServer, websocketHandler } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, websocketHandler(server).fetch);
 * ```
 *
 * @example Bun
 * ```ts
 * import { McpServer, websocketHandler } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * const mcp = websocketHandler(server);
 * Bun.serve({ port: 8080, fetch: mcp.fetch, websocket: mcp.websocket });
 * ```
 */
export function websocketHandler(server: McpServer, options: WebSocketOptions = {}): WebSocketHandler {
  const path = options.path ?? "/mcp";
  const maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  const maxConnections = options.maxConnections ?? 10_000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const keepAlive = options.keepAlive ?? 30_000;
  const originAllowed = originCheck(options.allowedOrigins);
  const conns = new Set<Conn>();
  let closing = false;
  // Bun: one timer pings every socket. Deno pings natively (idleTimeout).
  let pinger: ReturnType<typeof setInterval> | undefined;
  const pingAll = () => {
    for (const c of conns) {
      if (!c.ping) continue;
      if (!c.alive) c.close(1001, "no answer to keep-alive ping");
      else (c.alive = false, c.ping());
    }
  };

  const tooBig = (text: string) =>
    text.length > maxMessageBytes || (text.length * 3 > maxMessageBytes && utf8Length(text) > maxMessageBytes);

  function open(conn: Conn, channel: Channel): void {
    conn.session = server.connect(channel, { auth: conn.auth, transport: "websocket" });
  }

  function message(conn: Conn, data: unknown): void {
    conn.alive = true;
    if (typeof data !== "string") return conn.close(1003, "binary frames are not supported; send JSON-RPC as text");
    if (tooBig(data)) return conn.close(1009, `message larger than ${maxMessageBytes} bytes`);
    try {
      conn.session?.receive(data);
    } catch {
      // A fault in the dispatcher costs this connection, not the process (Deno exits on an uncaught event error).
      conn.close(1011, "internal error");
    }
  }

  function gone(conn: Conn): void {
    if (!conns.delete(conn)) return;
    conn.session?.closed();
    if (pinger !== undefined && ![...conns].some((c) => c.ping)) (clearInterval(pinger), pinger = undefined);
  }

  // Checks shared by both runtimes; returns a refusal, or the auth result.
  async function admit(req: Request): Promise<Response | { auth: unknown; protocol?: string }> {
    const url = new URL(req.url);
    if (url.pathname !== path) return notFound(path);
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      const { ws } = endpointUrls(req);
      return text(426, `This is an MCP WebSocket endpoint: connect an MCP client to ${ws} (subprotocol "mcp").`, {
        Upgrade: "websocket",
      });
    }
    if (closing) return text(503, "The server is shutting down", { "Retry-After": "5" });
    if (conns.size >= maxConnections) return text(503, "Too many connections", { "Retry-After": "5" });
    const checked = await checkRequest(req, originAllowed, options);
    if (checked instanceof Response) return checked;
    const { auth } = checked;
    // Re-check: authenticate may have awaited while others connected or close() began.
    if (closing) return text(503, "The server is shutting down", { "Retry-After": "5" });
    if (conns.size >= maxConnections) return text(503, "Too many connections", { "Retry-After": "5" });
    const offered = req.headers.get("sec-websocket-protocol")?.split(",").map((s) => s.trim()) ?? [];
    return { auth, protocol: offered.includes("mcp") ? "mcp" : undefined };
  }

  function fetchDeno(req: Request, admitted: { auth: unknown; protocol?: string }): Response {
    const { socket, response } = runtime.Deno.upgradeWebSocket(req, {
      protocol: admitted.protocol,
      // Deno pings after idleTimeout/2 of silence and closes after idleTimeout.
      idleTimeout: keepAlive > 0 ? Math.max(1, Math.ceil((2 * keepAlive) / 1000)) : 0,
    }) as { socket: WebSocket; response: Response };
    const ended = deferred();
    const conn: Conn = {
      auth: admitted.auth,
      ended: ended.promise,
      close(code, reason) {
        try {
          socket.close(code, reason);
        } catch { /* already closing */ }
        gone(conn);
      },
    };
    conns.add(conn);
    const channel: Channel = {
      send(data) {
        socket.send(data);
        if (socket.bufferedAmount > maxBufferedBytes) conn.close(1008, "client is not reading: send buffer full");
      },
      close: (code, reason) => conn.close(code, reason),
    };
    socket.onopen = () => open(conn, channel);
    socket.onmessage = (e) => message(conn, e.data);
    socket.onclose = () => (gone(conn), ended.resolve());
    socket.onerror = () => (gone(conn), ended.resolve());
    return response;
  }

  function fetchBun(
    req: Request,
    bunServer: BunServerLike,
    admitted: { auth: unknown; protocol?: string },
  ): Response | undefined {
    const data: { conn?: Conn; auth: unknown } = { auth: admitted.auth };
    const headers = admitted.protocol ? { "Sec-WebSocket-Protocol": admitted.protocol } : undefined;
    if (bunServer.upgrade(req, { headers, data })) return undefined;
    return text(400, "WebSocket upgrade failed");
  }

  const bunConn = (ws: BunSocketLike) => (ws.data as { conn?: Conn }).conn;

  const websocket: BunWebSocketHandlers = {
    open(ws) {
      const data = ws.data as { conn?: Conn; auth: unknown; ended?: () => void };
      const ended = deferred();
      data.ended = ended.resolve;
      const conn: Conn = {
        auth: data.auth,
        ended: ended.promise,
        alive: true,
        ping: keepAlive > 0 && ws.ping ? () => ws.ping!() : undefined,
        close(code, reason) {
          try {
            ws.close(code, reason);
          } catch { /* already closed */ }
          gone(conn);
        },
      };
      data.conn = conn;
      conns.add(conn);
      if (conn.ping && pinger === undefined) pinger = setInterval(pingAll, keepAlive);
      open(conn, {
        send(text) {
          const r = ws.send(text);
          if (r === 0 || (r === -1 && (ws.getBufferedAmount?.() ?? 0) > maxBufferedBytes)) {
            conn.close(1008, "client is not reading: send buffer full");
          }
        },
        close: (code, reason) => conn.close(code, reason),
      });
    },
    message(ws, msg) {
      const conn = bunConn(ws);
      if (conn) message(conn, msg);
    },
    close(ws) {
      const conn = bunConn(ws);
      if (conn) gone(conn);
      (ws.data as { ended?: () => void }).ended?.();
    },
    pong(ws) {
      const conn = bunConn(ws);
      if (conn) conn.alive = true;
    },
    maxPayloadLength: maxMessageBytes,
    idleTimeout: 0,
    sendPings: false,
    backpressureLimit: maxBufferedBytes,
    closeOnBackpressureLimit: true,
  };

  async function fetch(req: Request, bunServer?: unknown): Promise<Response | undefined> {
    const admitted = await admit(req);
    if (admitted instanceof Response) return admitted;
    if (isBunServer(bunServer)) return fetchBun(req, bunServer, admitted);
    if (runtime.Deno?.upgradeWebSocket) return fetchDeno(req, admitted);
    return text(500, "No WebSocket support: run on Deno, or pass Bun's server to fetch()");
  }

  return {
    fetch: fetch as WebSocketHandler["fetch"],
    websocket,
    get connections() {
      return conns.size;
    },
    async close(opts = {}) {
      closing = true;
      const timeout = opts.timeout ?? 10_000;
      const sessions = [...conns].map((c) => c.session).filter((s): s is Session => !!s);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, timeout)));
      await Promise.race([Promise.all(sessions.map((s) => s.drain())), deadline]);
      clearTimeout(timer);
      for (const s of sessions) s.abortAll("The server is shutting down");
      const open = [...conns];
      for (const c of open) c.close(1001, "server shutting down");
      // Let the close frames go out before the caller stops the HTTP server.
      const grace = new Promise<void>((r) => (timer = setTimeout(r, Math.min(1000, timeout))));
      await Promise.race([Promise.all(open.map((c) => c.ended)), grace]);
      clearTimeout(timer);
    },
  };
}

/**
 * The checks every transport that takes HTTP requests shares: the Origin
 * check (403) and the `authenticate` hook (401 with `WWW-Authenticate`, or
 * the hook's own Response). Resolves to the auth result when admitted.
 * @internal
 */
export async function checkRequest(
  req: Request,
  originAllowed: (origin: string) => boolean,
  options: Pick<WebSocketOptions, "authenticate" | "realm">,
): Promise<Response | { auth: unknown }> {
  const origin = req.headers.get("origin");
  if (origin !== null && !originAllowed(origin)) return text(403, `Origin ${origin} is not allowed`);
  if (!options.authenticate) return { auth: undefined };
  let auth: unknown;
  try {
    auth = await options.authenticate(req);
  } catch (err) {
    // A throw refuses the request like `undefined` does, but is most likely a bug: say so, once per hook.
    if (!warnedThrow.has(options.authenticate)) {
      warnedThrow.add(options.authenticate);
      console.error("authenticate threw, so the request was refused with 401 (logged once):", err);
    }
    auth = undefined;
  }
  if (auth instanceof Response) return auth;
  if (auth === undefined || auth === null || auth === false) {
    return text(401, "Unauthorized", { "WWW-Authenticate": `Bearer realm="${options.realm ?? "mcp"}"` });
  }
  return { auth };
}

const warnedThrow = new WeakSet<object>();

/** The origin predicate for an `allowedOrigins` option. @internal */
export function originCheck(allowed: WebSocketOptions["allowedOrigins"]): (origin: string) => boolean {
  if (allowed === "*") return () => true;
  if (typeof allowed === "function") return allowed;
  if (Array.isArray(allowed)) {
    const set = new Set(allowed);
    return (o) => set.has(o);
  }
  return (o) => {
    try {
      const u = new URL(o);
      return (u.protocol === "http:" || u.protocol === "https:") && LOOPBACK.has(u.hostname);
    } catch {
      return false;
    }
  };
}

/** Whether `x` is Bun's server (Deno passes its connection info in that place). */
function isBunServer(x: unknown): x is BunServerLike {
  return typeof (x as BunServerLike | undefined)?.upgrade === "function";
}

/**
 * The endpoint's public URLs as the client reached it (behind a TLS proxy,
 * `X-Forwarded-Proto: https` makes them https and wss). @internal
 */
export function endpointUrls(req: Request): { http: string; ws: string } {
  const url = new URL(req.url);
  url.search = url.hash = "";
  if (req.headers.get("x-forwarded-proto")?.toLowerCase() === "https") url.protocol = "https:";
  return { http: url.href, ws: `${url.protocol === "https:" ? "wss" : "ws"}://${url.host}${url.pathname}` };
}

/** The 404 for a path other than the endpoint's, naming it. @internal */
export function notFound(path: string): Response {
  return text(404, `Not Found: the MCP endpoint is ${path}`);
}

/** A short plain-text response. @internal */
export function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) (n += 4, i++);
    else n += 3;
  }
  return n;
}
