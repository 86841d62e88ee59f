/**
 * `serve()`: one call that listens with `Deno.serve` or `Bun.serve` and
 * answers MCP over WebSocket and Streamable HTTP on one path.
 *
 * @module
 */

import type { McpServer } from "./server.ts";
import { type BunServerLike, websocketHandler } from "./transport_ws.ts";
import { mcpHandler, type McpHandlerOptions } from "./mcp_handler.ts";
import type { CloseOptions } from "./channel.ts";
import { runtime } from "./_edge/admission.ts";
import { isLoopbackHost, pageRoute } from "./_page/route.ts";

/** Options of {@linkcode serve}. */
export interface ServeOptions extends McpHandlerOptions {
  /** Port to listen on; 0 picks a free one. Default 8080. */
  port?: number;
  /** Interface to listen on. Default `"127.0.0.1"`: pass `"0.0.0.0"` to accept remote clients. */
  hostname?: string;
  /**
   * Let several processes (or workers) listen on the same port, the kernel
   * spreading connections over them (`SO_REUSEPORT`; Linux). Run them with a
   * `cluster` transport so that they act as one server. On Deno it needs
   * `--unstable-net` (or `"unstable": ["net"]` in `deno.json`); without it
   * Deno exits saying so. Default false.
   */
  reusePort?: boolean;
  /** Serve Streamable HTTP beside WebSocket on the same path. Default true. */
  http?: boolean;
  /**
   * Serve an interactive page to a browser that opens the endpoint; see
   * {@linkcode McpHandlerOptions.page}. Default: on when `hostname` is a
   * loopback address (as it is by default), off otherwise.
   */
  page?: boolean;
  /** Called once listening, with the WebSocket endpoint URL. Default: nothing is printed. */
  onListen?: (url: URL) => void;
}

/** A running server, from {@linkcode serve}. */
export interface ServeHandle {
  /** The WebSocket endpoint, e.g. `ws://127.0.0.1:8080/mcp`. */
  readonly url: URL;
  /** The same endpoint for Streamable HTTP, e.g. `http://127.0.0.1:8080/mcp`. */
  readonly httpUrl: URL;
  /** The bound port. */
  readonly port: number;
  /** The bound interface. */
  readonly hostname: string;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Open Streamable HTTP sessions. */
  readonly sessions: number;
  /**
   * Shuts down gracefully: requests in flight finish (up to `timeout`), then
   * every connection closes, and tasks still running are aborted and marked
   * failed.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Serves `server` with `Deno.serve` or `Bun.serve`, whichever runtime this
 * is: WebSocket (and, unless `http: false`, Streamable HTTP) at `path`.
 *
 * @example
 * ```ts
 * import { McpServer, serve } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * const handle = serve(server, { port: 8080, onListen: (url) => console.log(`MCP on ${url}`) });
 * // later: await handle.close();
 * ```
 */
export function serve(server: McpServer, options: ServeOptions = {}): ServeHandle {
  const hostname = options.hostname ?? "127.0.0.1";
  const page = options.page ?? isLoopbackHost(hostname);
  const handler = options.http === false
    ? { ...websocketHandler(server, options), sessions: 0 }
    : mcpHandler(server, { ...options, page });
  if (options.http === false && page) {
    const route = pageRoute(options);
    const fetch = handler.fetch;
    handler.fetch = ((req: Request, bunServer?: BunServerLike) =>
      route(req) ?? fetch(req, bunServer as BunServerLike)) as typeof fetch;
  }
  const port = options.port ?? 8080;
  const reusePort = options.reusePort ?? false;
  let bound: number;
  let stop: () => Promise<void>;
  try {
    if (runtime.Bun?.serve) {
      const s = runtime.Bun.serve({ hostname, port, reusePort, fetch: handler.fetch, websocket: handler.websocket });
      bound = s.port;
      stop = async () => void (await s.stop(true));
    } else if (runtime.Deno?.serve) {
      const s = runtime.Deno.serve({ hostname, port, reusePort, onListen() {} }, handler.fetch);
      bound = s.addr.port;
      stop = () => s.shutdown();
    } else {
      throw new Error("serve() needs Deno or Bun; on another runtime, mount mcpHandler() yourself");
    }
  } catch (e) {
    // Nothing listens (the port is taken, say): let go of the server's tasks and cluster as a close would.
    void handler.close({ timeout: 0 });
    throw e;
  }
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const path = options.path ?? "/mcp";
  const url = new URL(`ws://${host}:${bound}${path}`);
  options.onListen?.(url);
  return {
    url,
    httpUrl: new URL(`http://${host}:${bound}${path}`),
    port: bound,
    hostname,
    get connections() {
      return handler.connections;
    },
    get sessions() {
      return handler.sessions;
    },
    async close(opts) {
      await handler.close(opts);
      await stop();
    },
  };
}
