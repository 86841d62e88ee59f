/**
 * MCP over Streamable HTTP (protocol 2025-11-25, also serving 2025-06-18,
 * 2025-03-26 and 2024-11-05 clients, and 2026-07-28 without sessions), for
 * Deno and Bun.
 *
 * One `initialize` POST opens a session (`Mcp-Session-Id`); each later POST
 * carries one JSON-RPC message (or a batch, for 2025-03-26 clients).
 * Requests are answered with JSON or with an SSE stream that also carries
 * the request's progress, log messages and requests to the client; other
 * server messages go on the session's GET stream. Every SSE event has an id,
 * so a client whose stream broke resumes it with `Last-Event-ID`. Nothing
 * here knows MCP methods beyond `initialize`.
 *
 * @module
 */

import type { RequestId } from "./jsonrpc.ts";
import type { McpServer } from "./server.ts";
import type { Session } from "./session.ts";
import type { WebSocketOptions } from "./transport_ws.ts";
import type { CloseOptions } from "./channel.ts";
import type { OAuthResource } from "./oauth.ts";
import { httpSessionOf } from "./_http/session.ts";
import { createHttpHandler } from "./_http/endpoint.ts";
import { primesStreams } from "./versions.ts";

/** Options of {@linkcode httpHandler}. */
export interface HttpOptions {
  /** The endpoint path. Default `"/mcp"`. */
  path?: string;
  /** Largest request body accepted, in bytes; larger ones get 413. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Sessions open at most; further `initialize` requests get 503. Default 10,000. */
  maxSessions?: number;
  /**
   * Milliseconds a session may go without any request, open stream or
   * request in flight before it is closed (its id then gets 404). 0 keeps
   * sessions until `DELETE`. Default 600,000 (10 minutes).
   */
  sessionIdleTimeout?: number;
  /** SSE events kept per session for clients that resume with `Last-Event-ID`; older ones are dropped. Default 256. */
  maxRetainedEvents?: number;
  /** Bytes of SSE events kept per session for resumption. Default 1 MiB. */
  maxRetainedBytes?: number;
  /** Bytes queued to an SSE stream the client does not read before that stream is closed (it can resume). Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Milliseconds a client should wait before reconnecting a closed SSE stream (the SSE `retry` field). Default 1,000. */
  retryInterval?: number;
  /** Milliseconds between SSE keep-alive comments on open streams. 0 disables. Default 30,000. */
  keepAlive?: number;
  /**
   * Origins allowed to send requests from a browser. Requests without
   * `Origin` are always allowed. Default: loopback origins only. `"*"`
   * allows every origin. Same as the WebSocket option.
   *
   * An allowed origin also gets CORS: its preflight (`OPTIONS`) is answered,
   * and every answer names it in `Access-Control-Allow-Origin` and exposes
   * `Mcp-Session-Id`, `MCP-Protocol-Version`, `WWW-Authenticate` and
   * `Retry-After`, so that a page of that origin can call the server with
   * `fetch`. Another origin gets 403 and no CORS headers.
   */
  allowedOrigins?: WebSocketOptions["allowedOrigins"];
  /**
   * Runs on every request. Return anything but `undefined`, `null` or
   * `false` to accept: it becomes the request's `ctx.auth`, and a session
   * takes only requests whose value equals (as JSON) the one it was opened
   * with. Return a `Response` to refuse with it; return nothing, `false` or
   * throw to refuse with 401. Same as the WebSocket option.
   */
  authenticate?: (request: Request) => unknown;
  /** Realm named in the `WWW-Authenticate` header of a 401. Default `"mcp"`. */
  realm?: string;
  /**
   * Makes the endpoint an OAuth resource server ({@linkcode oauthResource}):
   * every request needs a valid access token, which becomes `ctx.auth`, and
   * the metadata document is served. Instead of `authenticate`. Same as the
   * WebSocket option.
   */
  oauth?: OAuthResource;
}

/** The subset of Bun's `Server` the HTTP handler uses: lifting the idle timeout of long-lived SSE responses. */
export interface BunHttpServerLike {
  /** Sets the idle timeout of one request, in seconds; 0 disables it. */
  timeout?(request: Request, seconds: number): void;
}

/**
 * A Streamable HTTP endpoint for an {@linkcode McpServer}, to mount beside
 * your own routes: `Deno.serve(handler.fetch)` or
 * `Bun.serve({ fetch: handler.fetch })`.
 */
export interface HttpHandler {
  /**
   * Handles a request at the endpoint path (POST, GET, DELETE, and OPTIONS
   * for CORS preflights); answers 404 for other paths and 405 for other
   * methods. Deno: `Deno.serve(handler.fetch)`.
   */
  fetch(request: Request): Promise<Response>;
  /** Bun: pass Bun's server too, so that SSE streams are exempt from its idle timeout. */
  fetch(request: Request, bunServer: BunHttpServerLike): Promise<Response>;
  /** Open sessions. */
  readonly sessions: number;
  /**
   * Shuts down gracefully: refuses new requests with 503, lets requests in
   * flight finish (up to `timeout`) and delivers their responses, then ends
   * every session and closes every stream. The last transport of a server to
   * close first aborts its tasks still running and marks them failed.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Creates the Streamable HTTP endpoint for `server`.
 *
 * @example Deno
 * ```ts
 * import { httpHandler, McpServer } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * const mcp = httpHandler(server);
 * Deno.serve({ port: 8080 }, (req) => new URL(req.url).pathname === "/mcp" ? mcp.fetch(req) : new Response("hello"));
 * ```
 *
 * @example Deno, the endpoint alone
 * ```ts
 * import { httpHandler, McpServer } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, httpHandler(server).fetch);
 * ```
 */
export function httpHandler(server: McpServer, options: HttpOptions = {}): HttpHandler {
  return createHttpHandler(server, options, false);
}

/**
 * Closes the SSE stream that carries the messages of the request `ctx`
 * belongs to, without ending the request (2025-11-25 polling): the client
 * reconnects with `Last-Event-ID` and receives what was sent meanwhile,
 * including the response. Call it from a handler, e.g. before a long wait, to
 * free the connection. Returns whether there was such a stream: false for
 * other transports, for JSON responses and for clients older than
 * 2025-11-25 (they cannot resume a stream that has no event yet).
 *
 * @example
 * ```ts
 * import { closeSseStream, McpServer } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * server.tool("long_job", {}, async (_args, ctx) => {
 *   closeSseStream(ctx);
 *   await new Promise((r) => setTimeout(r, 5000));
 *   return "done";
 * });
 * ```
 */
export function closeSseStream(ctx: { session: Session; requestId: RequestId }): boolean {
  const hs = httpSessionOf(ctx.session);
  if (!hs || hs.ended || !primesStreams(hs.session.protocolVersion)) return false;
  return hs.owners.get(ctx.requestId)?.closeStream() ?? false;
}
