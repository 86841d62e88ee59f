/**
 * {@linkcode mcpHandler}: WebSocket and Streamable HTTP on one path, for one
 * {@linkcode McpServer}.
 *
 * @module
 */

import type { McpServer } from "./server.ts";
import {
  type BunServerLike,
  type BunWebSocketHandlers,
  websocketHandler,
  type WebSocketOptions,
} from "./transport_ws.ts";
import type { BunHttpServerLike, HttpOptions } from "./transport_http.ts";
import { createHttpHandler } from "./_http/endpoint.ts";
import type { CloseOptions } from "./channel.ts";
import { pageRoute } from "./_page/route.ts";

/** Options of {@linkcode mcpHandler}: those of both transports, and the page. */
export interface McpHandlerOptions extends WebSocketOptions, HttpOptions {
  /**
   * Serve an interactive page to a browser that opens the endpoint (a GET
   * with `Accept: text/html`): it connects over the endpoint's WebSocket,
   * through the same Origin check and `authenticate` as any client, and
   * lets a person call the tools, read and subscribe to the resources, get
   * the prompts, and answer the server's elicitation, sampling and roots
   * requests. Other GETs and every MCP request are unaffected. Default
   * false here, as mcpHandler() cannot know where it listens;
   * {@linkcode serve} turns it on when it listens on a loopback address.
   */
  page?: boolean;
}

/**
 * WebSocket and Streamable HTTP on one path, for one {@linkcode McpServer}.
 * Requests with `Upgrade: websocket` become WebSocket connections; the
 * others are Streamable HTTP.
 */
export interface McpHandler {
  /** Handles a request. Deno: `Deno.serve(handler.fetch)`; the answer is always a `Response`. */
  fetch(request: Request): Promise<Response>;
  /** Bun: pass Bun's server too. A successful upgrade returns `undefined`, as `Bun.serve` expects. */
  fetch(request: Request, bunServer: BunServerLike & BunHttpServerLike): Promise<Response | undefined>;
  /** Bun's websocket handlers; pass them to `Bun.serve`. */
  readonly websocket: BunWebSocketHandlers;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Open HTTP sessions. */
  readonly sessions: number;
  /** Shuts both transports down gracefully (the server's last, it first aborts the tasks still running); see {@linkcode HttpHandler.close}. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * WebSocket and Streamable HTTP for `server` on one path: a request with
 * `Upgrade: websocket` goes to {@linkcode websocketHandler}, every other
 * request to {@linkcode httpHandler}. Both share the Origin check and the
 * `authenticate` hook.
 *
 * @example Deno
 * ```ts
 * import { McpServer, mcpHandler } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * const mcp = mcpHandler(server);
 * Deno.serve({ port: 8080 }, mcp.fetch);
 * ```
 *
 * @example Bun
 * ```ts
 * import { McpServer, mcpHandler } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * const mcp = mcpHandler(server);
 * Bun.serve({ port: 8080, fetch: mcp.fetch, websocket: mcp.websocket });
 * ```
 */
export function mcpHandler(server: McpServer, options: McpHandlerOptions = {}): McpHandler {
  const ws = websocketHandler(server, options);
  const http = createHttpHandler(server, options, true);
  const page = options.page ? pageRoute(options) : undefined;
  return {
    fetch: ((req: Request, bunServer?: BunServerLike & BunHttpServerLike) => {
      const forPage = page?.(req);
      if (forPage) return forPage;
      const upgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
      if (!bunServer) return upgrade ? ws.fetch(req) : http.fetch(req);
      return upgrade ? ws.fetch(req, bunServer) : http.fetch(req, bunServer);
    }) as McpHandler["fetch"],
    websocket: ws.websocket,
    get connections() {
      return ws.connections;
    },
    get sessions() {
      return http.sessions;
    },
    async close(opts) {
      await Promise.all([ws.close(opts), http.close(opts)]);
    },
  };
}
