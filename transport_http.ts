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

import { classify, ErrorCode, errorFrame, type RequestId } from "./jsonrpc.ts";
import type { McpServer } from "./server.ts";
import type { Session } from "./session.ts";
import type { WebSocketOptions } from "./transport_ws.ts";
import {
  checkRequest,
  type CloseOptions,
  drainSessions,
  endpointInfo,
  isPath,
  notFound,
  originCheck,
} from "./_edge.ts";
import { accepts, jsonResponse, notAcceptable, readBody, rpcError } from "./_http.ts";
import { type HttpSession, httpSessionOf, newRoute, type PostRoute, SessionTable } from "./_http_session.ts";
import type { Refusal } from "./channel.ts";
import { type SseLimits, sseResponse, type Stream } from "./_sse.ts";
import { StatelessPosts } from "./_http_modern.ts";
import { perRequestVersion, primesStreams } from "./versions.ts";

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
   */
  allowedOrigins?: WebSocketOptions["allowedOrigins"];
  /**
   * Runs on every request. Return anything but `undefined`, `null` or
   * `false` to accept (the value given at `initialize` becomes `ctx.auth`);
   * return a `Response` to refuse with it; return nothing, `false` or throw
   * to refuse with 401. Same as the WebSocket option.
   */
  authenticate?: (request: Request) => unknown;
  /** Realm named in the `WWW-Authenticate` header of a 401. Default `"mcp"`. */
  realm?: string;
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
   * Handles a request at the endpoint path (POST, GET, DELETE); answers 404
   * for other paths and 405 for other methods. Deno: `Deno.serve(handler.fetch)`.
   */
  fetch(request: Request): Promise<Response>;
  /** Bun: pass Bun's server too, so that SSE streams are exempt from its idle timeout. */
  fetch(request: Request, bunServer: BunHttpServerLike): Promise<Response>;
  /** Open sessions. */
  readonly sessions: number;
  /**
   * Shuts down gracefully: refuses new requests with 503, lets requests in
   * flight finish (up to `timeout`) and delivers their responses, then ends
   * every session and closes every stream.
   */
  close(options?: CloseOptions): Promise<void>;
}

// The request ids of a POST's message or batch, and whether it initializes; or the 400 for a bad one.
function requestsOf(value: unknown): { ids: RequestId[]; initialize: boolean } | Response {
  const batch = Array.isArray(value);
  const items = batch ? value : [value];
  if (batch && !items.length) {
    return rpcError(400, ErrorCode.InvalidRequest, "Invalid Request: an empty batch is not a valid request");
  }
  const ids: RequestId[] = [];
  const seen = batch ? new Set<RequestId>() : undefined; // a single message needs no duplicate check
  let initialize = false;
  for (const item of items) {
    const c = classify(item);
    if (c.kind === "invalid" && !batch) {
      const err = { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${c.reason}` };
      return new Response(c.id === null ? JSON.stringify({ jsonrpc: "2.0", error: err }) : errorFrame(c.id, err), {
        status: 400,
        headers: { "content-type": "application/json" },
      });
    }
    if (c.kind !== "request") continue;
    if (seen?.has(c.msg.id)) {
      return rpcError(400, ErrorCode.InvalidRequest, "Invalid Request: two requests in one batch share an id");
    }
    ids.push(c.msg.id);
    seen?.add(c.msg.id);
    if (c.msg.method === "initialize") initialize = true;
  }
  return { ids, initialize };
}

/**
 * Whether a GET asks for the session's SSE stream: MCP clients name
 * `text/event-stream` and send their session id. Other GETs (a browser, curl)
 * get {@linkcode endpointInfo}.
 */
function isStreamRequest(req: Request): boolean {
  return req.headers.has("mcp-session-id") || req.headers.has("last-event-id") ||
    /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(req.headers.get("accept") ?? "");
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

/** @internal `websocket`: whether WebSocket is served on the same path, for the answer to a plain GET. */
export function createHttpHandler(server: McpServer, options: HttpOptions, websocket: boolean): HttpHandler {
  const endpoint = new HttpEndpoint(server, options, websocket);
  return {
    fetch: (req: Request, bunServer?: BunHttpServerLike) => endpoint.fetch(req, bunServer),
    get sessions() {
      return endpoint.sessions.size;
    },
    close: (opts?: CloseOptions) => endpoint.close(opts),
  };
}

const shuttingDown = () =>
  rpcError(503, ErrorCode.ConnectionClosed, "The server is shutting down", { "Retry-After": "5" });

const parseError = () =>
  new Response(
    JSON.stringify({
      jsonrpc: "2.0",
      id: null,
      error: { code: ErrorCode.ParseError, message: "Parse error: the body is not valid JSON" },
    }),
    { status: 400, headers: { "content-type": "application/json" } },
  );

/** One Streamable HTTP endpoint: its sessions, and the POST, GET and DELETE requests on its path. */
class HttpEndpoint {
  readonly sessions: SessionTable;
  #path: string;
  #maxBody: number;
  #maxSessions: number;
  #originAllowed: (origin: string) => boolean;
  #authenticated: boolean;
  #stateless: StatelessPosts;
  #closing = false;

  constructor(
    private readonly server: McpServer,
    private readonly options: HttpOptions,
    private readonly websocket: boolean,
  ) {
    this.#path = options.path ?? "/mcp";
    this.#maxBody = options.maxMessageBytes ?? 4 * 1024 * 1024;
    this.#maxSessions = options.maxSessions ?? 10_000;
    const limits: SseLimits = {
      maxEvents: Math.max(0, options.maxRetainedEvents ?? 256),
      maxBytes: Math.max(0, options.maxRetainedBytes ?? 1024 * 1024),
      maxBuffered: options.maxBufferedBytes ?? 8 * 1024 * 1024,
      retry: Math.max(0, Math.round(options.retryInterval ?? 1000)),
      keepAlive: options.keepAlive ?? 30_000,
    };
    this.#originAllowed = originCheck(options.allowedOrigins);
    this.#authenticated = !!options.authenticate;
    this.sessions = new SessionTable(server, limits, options.sessionIdleTimeout ?? 600_000);
    this.#stateless = new StatelessPosts(server);
  }

  fetch(req: Request, bunServer?: BunHttpServerLike): Promise<Response> {
    if (!isPath(req, this.#path)) return Promise.resolve(notFound(this.#path));
    const method = req.method;
    if (method !== "POST" && method !== "GET" && method !== "DELETE") {
      return Promise.resolve(
        new Response("Method Not Allowed\n", { status: 405, headers: { Allow: "GET, POST, DELETE" } }),
      );
    }
    if (this.#closing && method !== "DELETE") return Promise.resolve(shuttingDown());
    const checked = checkRequest(req, this.#originAllowed, this.options);
    // Without an authenticate hook the request goes on at once; with one, once it has answered.
    return checked instanceof Promise
      ? checked.then((c) => this.#admitted(req, method, c, bunServer))
      : this.#admitted(req, method, checked, bunServer);
  }

  async close(opts: CloseOptions = {}): Promise<void> {
    this.#closing = true;
    const all = [...this.sessions.values()];
    const oneShot = [...this.#stateless.running];
    await drainSessions([...all.map((hs) => hs.session), ...oneShot], opts.timeout ?? 10_000);
    for (const session of oneShot) session.close("The server is shutting down");
    for (const hs of all) hs.end("The server is shutting down");
  }

  #admitted(
    req: Request,
    method: string,
    checked: Response | { auth: unknown },
    bunServer?: BunHttpServerLike,
  ): Promise<Response> {
    if (checked instanceof Response) return Promise.resolve(checked);
    // Re-check: authenticate may have awaited while close() began.
    if (this.#closing && method !== "DELETE") return Promise.resolve(shuttingDown());
    if (method === "POST") return this.#post(req, checked.auth, bunServer);
    if (method === "GET") return Promise.resolve(this.#get(req, checked.auth, bunServer));
    const found = this.sessions.find(req, checked.auth, this.#authenticated);
    if (found instanceof Response) return Promise.resolve(found);
    found.end("The client ended the session");
    return Promise.resolve(new Response(null, { status: 200 }));
  }

  // A response body for `stream`, exempt from Bun's idle timeout; `prime` as in EventLog.connect.
  #connect(
    hs: HttpSession,
    stream: Stream,
    req: Request,
    bunServer: BunHttpServerLike | undefined,
    prime: number | undefined,
  ): ReadableStream<Uint8Array> {
    try {
      bunServer?.timeout?.(req, 0);
    } catch { /* not Bun */ }
    // Priming names the point the stream starts from, for clients that can resume an empty stream.
    return hs.events.connect(
      stream,
      prime !== undefined && primesStreams(hs.session.protocolVersion) ? prime : undefined,
    );
  }

  // One message or batch: checked, dispatched in its session (opened by initialize), then answered.
  async #post(req: Request, auth: unknown, bunServer?: BunHttpServerLike): Promise<Response> {
    const type = req.headers.get("content-type");
    if (type !== "application/json" && type?.split(";")[0].trim().toLowerCase() !== "application/json") {
      return rpcError(415, ErrorCode.InvalidRequest, "Unsupported Media Type: send Content-Type: application/json");
    }
    const body = await readBody(req, this.#maxBody);
    if (body instanceof Response) return body;
    if (this.#closing) return shuttingDown();
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return parseError();
    }
    const found = requestsOf(value);
    if (found instanceof Response) return found;
    const { ids, initialize } = found;
    const batch = Array.isArray(value);
    const hasSession = req.headers.get("mcp-session-id") !== null;
    const version = batch ? undefined : perRequestVersion(value);
    if (!hasSession && typeof version === "string") return this.#stateless.post(req, value as never, version, auth);

    let hs: HttpSession;
    const created = !hasSession;
    if (created) {
      if (!initialize || batch) {
        return rpcError(
          400,
          ErrorCode.InvalidRequest,
          "Bad Request: send the Mcp-Session-Id header, or an initialize request (alone) to open a session",
        );
      }
      if (this.sessions.size >= this.#maxSessions) {
        return rpcError(503, ErrorCode.ConnectionClosed, "Too many sessions", { "Retry-After": "5" });
      }
      hs = this.sessions.open(auth);
    } else {
      const known = this.sessions.find(req, auth, this.#authenticated);
      if (known instanceof Response) return known;
      hs = known;
    }
    const accept = accepts(req);
    if (ids.length && !accept.json && !accept.sse) {
      if (created) hs.end("not acceptable");
      return notAcceptable();
    }
    for (const id of ids) {
      if (hs.owners.has(id)) {
        return new Response(
          errorFrame(id, {
            code: ErrorCode.InvalidRequest,
            message: `Invalid Request: a request with id ${JSON.stringify(id)} is already in flight`,
          }),
          { status: 400, headers: { "content-type": "application/json" } },
        );
      }
    }
    const r = newRoute(ids);
    for (const id of ids) hs.owners.set(id, r);
    const refusal = hs.session.dispatch(value);
    return await this.#answer(req, hs, r, { ids, created, refusal, accept, bunServer });
  }

  // The answer to a dispatched POST: JSON when the client takes it and nothing but responses comes, else SSE.
  #answer(
    req: Request,
    hs: HttpSession,
    r: PostRoute,
    how: {
      ids: RequestId[];
      created: boolean;
      refusal?: Refusal;
      accept: { json: boolean; sse: boolean };
      bunServer?: BunHttpServerLike;
    },
  ): Response | Promise<Response> {
    const { ids, created, refusal, accept } = how;
    const responses = () => r.buffer.filter((b) => b.response).map((b) => b.text);
    const headers: Record<string, string> = {};
    // A handler closed the session while this POST was dispatched.
    if (hs.ended && !created) return jsonResponse(responses());
    if (created) {
      if (!hs.session.ready) {
        // initialize failed: answer it, keep no session
        const frames = responses();
        hs.end("initialize failed");
        return jsonResponse(frames);
      }
      this.sessions.add(hs);
      headers["mcp-session-id"] = hs.token;
    }

    // The dispatcher refused the whole POST (e.g. a batch under a version without batches), or it held no request.
    if (refusal || !ids.length) {
      for (const id of ids) if (hs.owners.get(id) === r) hs.owners.delete(id);
      for (const b of r.buffer) if (!b.response) hs.events.write(hs.events.standalone, b.text);
      if (refusal) return jsonResponse([refusal.text], headers, 400);
      return new Response(null, { status: 202, headers });
    }

    const answered = r.pending.size === 0;
    const extras = r.buffer.some((b) => !b.response);
    if (accept.json && (!accept.sse || (answered && !extras && !r.closeRequested))) {
      r.mode = "json";
      for (const b of r.buffer) {
        if (b.response) r.json.push(b.text);
        else hs.events.write(hs.events.standalone, b.text);
      }
      r.buffer = [];
      if (answered) return jsonResponse(r.json, headers);
      return new Promise<Response>((resolve) => {
        r.resolveJson = (frames) => resolve(jsonResponse(frames, headers));
      });
    }

    r.mode = "sse";
    const stream = hs.events.newStream();
    r.stream = stream;
    const out = this.#connect(hs, stream, req, how.bunServer, hs.events.last);
    const buffered = r.buffer;
    r.buffer = [];
    for (const b of buffered) hs.events.write(stream, b.text);
    if (answered) hs.finish(r);
    else if (r.closeRequested) hs.events.closeConnection(stream);
    return sseResponse(out, headers);
  }

  // The session's standalone stream, or the resumption of a stream after Last-Event-ID.
  #get(req: Request, auth: unknown, bunServer?: BunHttpServerLike): Response {
    if (!isStreamRequest(req)) return endpointInfo(req, this.server, this.websocket);
    if (!accepts(req).sse) {
      return rpcError(406, ErrorCode.InvalidRequest, "Not Acceptable: a GET stream needs Accept: text/event-stream");
    }
    const found = this.sessions.find(req, auth, this.#authenticated);
    if (found instanceof Response) return found;
    const hs = found;
    const events = hs.events;
    const last = req.headers.get("last-event-id");
    if (last === null) {
      // Events sent while no GET stream was open come first; the priming id points before them.
      const out = this.#connect(hs, events.standalone, req, bunServer, events.standalone.delivered);
      events.replay(events.standalone, events.standalone.delivered);
      return sseResponse(out);
    }
    const m = /^(\d{1,15})-(\d{1,15})$/.exec(last);
    if (!m) {
      return rpcError(400, ErrorCode.InvalidRequest, "Bad Request: Last-Event-ID is not an event id of this server");
    }
    const num = Number(m[1]);
    const after = Number(m[2]);
    const stream = num === 0 ? events.standalone : events.streams.get(num);
    // A stream that is finished (and fully replayed) or forgotten has nothing more to send.
    if (!stream || (stream.done && !events.hasEventsAfter(stream, after))) return new Response(null, { status: 204 });
    const out = this.#connect(hs, stream, req, bunServer, undefined);
    events.replay(stream, after);
    if (stream.done) events.closeConnection(stream);
    return sseResponse(out);
  }
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
  const r = hs.owners.get(ctx.requestId);
  if (!r) return false;
  if (r.mode === "undecided") {
    r.closeRequested = true;
    return true;
  }
  if (r.mode !== "sse" || !r.stream) return false;
  return hs.events.closeConnection(r.stream);
}
