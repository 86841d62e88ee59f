/**
 * MCP over WebSocket for Deno (`Deno.upgradeWebSocket`) and Bun
 * (`Bun.serve` websocket handlers). One connection is one session; one text
 * frame is one JSON-RPC message. Nothing here knows MCP methods.
 *
 * @module
 */

import { coreOf, type McpServer } from "./server.ts";
import type { Session } from "./session.ts";
import type { CloseOptions } from "./channel.ts";
import {
  checkAdmissionOptions,
  checkRequest,
  drainSessions,
  endpointUrls,
  isPath,
  originCheck,
  otherPath,
  runtime,
  text,
} from "./_edge/admission.ts";
import { type OAuthResource, TOKEN_EXPIRED_CLOSE_CODE } from "./oauth.ts";
import { type Admitted, type Conn, utf8Length, type WsCore } from "./_ws/core.ts";
import { upgradeDeno } from "./_ws/deno.ts";
import { type BunServerLike, bunWebSocket, type BunWebSocketHandlers, isBunServer, upgradeBun } from "./_ws/bun.ts";
import { callAt, waitAtMost } from "./_util/timers.ts";

// Bun's adapter owns the types of the Bun objects it takes; they are part of this module's API.
export type { BunServerLike, BunSocketLike, BunWebSocketHandlers } from "./_ws/bun.ts";
export type { CloseOptions };

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
   * `127.0.0.1`, `[::1]`). `"*"` allows every origin. Over Streamable HTTP
   * an allowed origin also gets CORS (see `HttpOptions.allowedOrigins`).
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
  /**
   * Makes the endpoint an OAuth resource server ({@linkcode oauthResource}):
   * the upgrade needs a valid access token, which becomes `ctx.auth`; the
   * socket is closed with 4401 when it expires; the metadata document is
   * served. Instead of `authenticate`.
   */
  oauth?: OAuthResource;
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
   * closes every socket with 1001. The last transport of a server to close
   * first aborts its tasks still running and marks them failed.
   */
  close(options?: CloseOptions): Promise<void>;
}

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
  checkAdmissionOptions(options);
  const path = options.path ?? "/mcp";
  const maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  const maxConnections = options.maxConnections ?? 10_000;
  const originAllowed = originCheck(options.allowedOrigins);
  const conns = new Set<Conn>();
  let closing = false;
  // Holds the server's tasks up while serving; in a cluster, notifications raised on other instances reach
  // these sockets too.
  const lease = coreOf(server).attach();
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

  const core: WsCore = {
    maxMessageBytes,
    maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
    keepAlive: options.keepAlive ?? 30_000,
    add(conn) {
      conns.add(conn);
    },
    open(conn, channel) {
      conns.add(conn);
      if (conn.ping && pinger === undefined) pinger = setInterval(pingAll, core.keepAlive);
      conn.session = server.connect(channel, { auth: conn.auth, transport: "websocket" });
      if (conn.expires !== undefined) {
        conn.expiry = callAt(conn.expires, () => conn.close(TOKEN_EXPIRED_CLOSE_CODE, "access token expired"));
      }
    },
    message(conn, data) {
      conn.alive = true;
      if (typeof data !== "string") return conn.close(1003, "binary frames are not supported; send JSON-RPC as text");
      if (tooBig(data)) return conn.close(1009, `message larger than ${maxMessageBytes} bytes`);
      try {
        conn.session?.receive(data);
      } catch {
        // A fault in the dispatcher costs this connection, not the process (Deno exits on an uncaught event error).
        conn.close(1011, "internal error");
      }
    },
    gone(conn) {
      conn.expiry?.();
      if (!conns.delete(conn)) return;
      conn.session?.closed();
      if (pinger !== undefined && ![...conns].some((c) => c.ping)) (clearInterval(pinger), pinger = undefined);
    },
  };

  const busy = () =>
    closing
      ? text(503, "The server is shutting down", { "Retry-After": "5" })
      : conns.size >= maxConnections
      ? text(503, "Too many connections", { "Retry-After": "5" })
      : undefined;

  // Checks shared by both runtimes; returns a refusal, or the auth result.
  async function admit(req: Request): Promise<Response | Admitted> {
    if (!isPath(req, path)) return otherPath(req, path, options);
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      const { ws } = endpointUrls(req);
      return text(426, `This is an MCP WebSocket endpoint: connect an MCP client to ${ws} (subprotocol "mcp").`, {
        Upgrade: "websocket",
      });
    }
    const refused = busy();
    if (refused) return refused;
    const checked = await checkRequest(req, originAllowed, options);
    if (checked instanceof Response) return checked;
    // Re-check: authenticate may have awaited while others connected or close() began.
    const late = busy();
    if (late) return late;
    const offered = req.headers.get("sec-websocket-protocol")?.split(",").map((s) => s.trim()) ?? [];
    return { auth: checked.auth, expires: checked.expires, protocol: offered.includes("mcp") ? "mcp" : undefined };
  }

  async function fetch(req: Request, bunServer?: unknown): Promise<Response | undefined> {
    const admitted = await admit(req);
    if (admitted instanceof Response) return admitted;
    if (isBunServer(bunServer)) return upgradeBun(req, bunServer, admitted);
    if (runtime.Deno?.upgradeWebSocket) return upgradeDeno(core, req, admitted);
    return text(500, "No WebSocket support: run on Deno, or pass Bun's server to fetch()");
  }

  return {
    fetch: fetch as WebSocketHandler["fetch"],
    websocket: bunWebSocket(core),
    get connections() {
      return conns.size;
    },
    async close(opts = {}) {
      closing = true;
      const timeout = opts.timeout ?? 10_000;
      await lease.end(async () => {
        await drainSessions([...conns].map((c) => c.session).filter((s): s is Session => !!s), timeout);
        const open = [...conns];
        for (const c of open) c.close(1001, "server shutting down");
        // Let the close frames go out before the caller stops the HTTP server.
        await waitAtMost(Promise.all(open.map((c) => c.ended)), Math.min(1000, timeout));
      });
    },
  };
}
