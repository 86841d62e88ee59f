/**
 * MCP over Streamable HTTP (protocol 2025-11-25, also serving 2025-06-18,
 * 2025-03-26 and 2024-11-05 clients), for Deno and Bun, plus
 * {@linkcode mcpHandler}, which serves WebSocket and HTTP on one path.
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
import {
  type Channel,
  type McpServer,
  PER_REQUEST_PROTOCOL_VERSIONS,
  type SendMeta,
  type Session,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "./server.ts";
import {
  type BunServerLike,
  type BunWebSocketHandlers,
  checkRequest,
  type CloseOptions,
  endpointUrls,
  notFound,
  originCheck,
  websocketHandler,
  type WebSocketOptions,
} from "./transport_ws.ts";

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

/** Options of {@linkcode mcpHandler}: those of both transports. */
export interface McpHandlerOptions extends WebSocketOptions, HttpOptions {}

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
  /** Shuts both transports down gracefully; see {@linkcode HttpHandler.close}. */
  close(options?: CloseOptions): Promise<void>;
}

// ---------------------------------------------------------------------------
// Internals

const enc = new TextEncoder();
// The spec's 2025-11-25 polling: priming events with an id and empty data, and server-closed streams.
const PRIMING_SINCE = "2025-11-25";

/** One live HTTP response body carrying SSE. */
interface Sink {
  write(chunk: string): void;
  close(): void;
  readonly closed: boolean;
}

/** A logical SSE stream: a POST's stream or the session's standalone (GET) stream. It may outlive its connections. */
interface Stream {
  readonly num: number;
  readonly standalone: boolean;
  sink?: Sink;
  /** Every response on it has been sent. */
  done: boolean;
  /** Its events still in the session's log. */
  retained: number;
  /** Highest event number written to a connection (standalone stream). */
  delivered: number;
}

interface LoggedEvent {
  n: number;
  stream: Stream;
  text: string;
  bytes: number;
}

/** Where the messages of one POST go. */
interface Route {
  pending: Set<RequestId>;
  mode: "undecided" | "sse" | "json";
  /** Messages sent before the transport chose JSON or SSE. */
  buffer: { text: string; response: boolean }[];
  stream?: Stream;
  json: string[];
  resolveJson?: (frames: string[]) => void;
  closeRequested: boolean;
}

interface HttpSession {
  token: string;
  /** Who opened it (the `authenticate` result, serialized). */
  principal: string;
  session: Session;
  owners: Map<RequestId, Route>;
  streams: Map<number, Stream>;
  standalone: Stream;
  log: LoggedEvent[];
  logHead: number;
  logBytes: number;
  counter: number;
  nextStream: number;
  lastActive: number;
  capture?: Route;
  ended: boolean;
  retry: number;
  write(stream: Stream, text: string): void;
  end(reason: string): void;
}

// Lets closeSseStream() find a session's HTTP state from a handler's context.
const bySession = new WeakMap<Session, HttpSession>();

function rpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message } }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function accepts(req: Request): { json: boolean; sse: boolean } {
  const header = req.headers.get("accept");
  if (!header) return { json: true, sse: true };
  const types = header.split(",").map((t) => t.split(";")[0].trim().toLowerCase());
  const any = types.includes("*/*");
  return {
    json: any || types.includes("application/json") || types.includes("application/*"),
    sse: any || types.includes("text/event-stream") || types.includes("text/*"),
  };
}

// An error response with id null: the dispatcher refusing a whole message it could not take.
function isRefusal(text: string): boolean {
  try {
    const v = JSON.parse(text);
    return typeof v === "object" && v !== null && v.id === null && "error" in v;
  } catch {
    return false;
  }
}

// The authenticate result as a comparable key; sessions are bound to it.
function principalOf(auth: unknown): string {
  try {
    return JSON.stringify(auth) ?? "";
  } catch {
    return String(auth);
  }
}

// The version a 2026-07-28 request names in its _meta, if any.
function perRequestVersion(value: unknown): string | undefined {
  const meta = (value as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta;
  const v = typeof meta === "object" && meta !== null ? meta["io.modelcontextprotocol/protocolVersion"] : undefined;
  return typeof v === "string" ? v : undefined;
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

/** A short plain answer for a person who opens the endpoint: what it is and how to connect. @internal */
export function endpointInfo(req: Request, server: McpServer, websocket: boolean): Response {
  const urls = endpointUrls(req);
  const { name, version } = server.serverInfo;
  const lines = [
    `This is an MCP (Model Context Protocol) server endpoint: ${name} ${version}.`,
    "It speaks JSON-RPC to MCP clients, not to browsers. Connect an MCP client to",
    ...(websocket ? [`  ${urls.ws}  (WebSocket, subprotocol "mcp")`] : []),
    `  ${urls.http}  (Streamable HTTP: POST an initialize request)`,
  ];
  return new Response(lines.join("\n") + "\n", {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

// 2026-07-28 maps protocol errors to HTTP statuses.
function statusOf(frame: string): number {
  const code = (JSON.parse(frame) as { error?: { code?: number } }).error?.code;
  if (code === ErrorCode.MethodNotFound) return 404;
  if (code === ErrorCode.HeaderMismatch || code === ErrorCode.MissingClientCapability) return 400;
  if (code === ErrorCode.UnsupportedProtocolVersion) return 400;
  return 200;
}

function sseData(text: string): string {
  return text.includes("\n") ? text.split("\n").map((l) => `data: ${l}`).join("\n") : `data: ${text}`;
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

// `websocket`: whether WebSocket is served on the same path, for the answer to a plain GET.
function createHttpHandler(server: McpServer, options: HttpOptions, websocket: boolean): HttpHandler {
  const path = options.path ?? "/mcp";
  const maxBody = options.maxMessageBytes ?? 4 * 1024 * 1024;
  const maxSessions = options.maxSessions ?? 10_000;
  const idleTimeout = options.sessionIdleTimeout ?? 600_000;
  const maxEvents = Math.max(0, options.maxRetainedEvents ?? 256);
  const maxBytes = Math.max(0, options.maxRetainedBytes ?? 1024 * 1024);
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const retry = Math.max(0, Math.round(options.retryInterval ?? 1000));
  const keepAlive = options.keepAlive ?? 30_000;
  const originAllowed = originCheck(options.allowedOrigins);
  const sessions = new Map<string, HttpSession>();
  const versions = new Set([...SUPPORTED_PROTOCOL_VERSIONS, ...PER_REQUEST_PROTOCOL_VERSIONS]);
  let closing = false;
  let sweeper: ReturnType<typeof setInterval> | undefined;

  // -- sessions ---------------------------------------------------------------

  function sweep(): void {
    const now = Date.now();
    for (const hs of [...sessions.values()]) {
      if (now - hs.lastActive < idleTimeout || hs.session.inFlight > 0) continue;
      if (hs.standalone.sink || [...hs.streams.values()].some((s) => s.sink)) continue;
      hs.end("The session expired");
    }
  }

  function sessionsChanged(): void {
    if (sessions.size > 0 && idleTimeout > 0 && sweeper === undefined) {
      sweeper = setInterval(sweep, Math.max(250, Math.min(idleTimeout / 2, 60_000)));
    } else if (sessions.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  function newSession(auth: unknown): HttpSession {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    const token = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
    const standalone: Stream = { num: 0, standalone: true, done: false, retained: 0, delivered: 0 };
    const hs: HttpSession = {
      token,
      principal: principalOf(auth),
      session: undefined as unknown as Session,
      owners: new Map(),
      streams: new Map(),
      standalone,
      log: [],
      logHead: 0,
      logBytes: 0,
      counter: 0,
      nextStream: 1,
      lastActive: Date.now(),
      ended: false,
      retry,
      write(stream, text) {
        const n = ++hs.counter;
        const ev: LoggedEvent = { n, stream, text, bytes: text.length };
        hs.log.push(ev);
        hs.logBytes += ev.bytes;
        stream.retained++;
        if (stream.sink) {
          stream.sink.write(`id: ${stream.num}-${n}\n${sseData(text)}\n\n`);
          stream.delivered = n;
        }
        trim(hs);
      },
      end(reason) {
        if (hs.ended) return;
        hs.ended = true;
        if (sessions.get(hs.token) === hs) sessions.delete(hs.token);
        sessionsChanged();
        hs.session.closed();
        const routes = new Set(hs.owners.values());
        hs.owners.clear();
        for (const r of routes) {
          for (const id of r.pending) {
            respond(hs, r, errorFrame(id, { code: ErrorCode.ConnectionClosed, message: reason }), [id]);
          }
        }
        for (const s of [hs.standalone, ...hs.streams.values()]) {
          s.sink?.close();
          s.sink = undefined;
        }
        hs.streams.clear();
        hs.log = [];
        hs.logHead = 0;
        hs.logBytes = 0;
      },
    };
    const channel: Channel = {
      send: (text, meta) => route(hs, text, meta),
      close: () => hs.end("The server closed the session"),
      noResponse(id) {
        const r = hs.owners.get(id);
        if (!r) return;
        hs.owners.delete(id);
        r.pending.delete(id);
        if (!r.pending.size && r.mode !== "undecided") finish(hs, r);
      },
    };
    hs.session = server.connect(channel, { auth, transport: "http" });
    bySession.set(hs.session, hs);
    return hs;
  }

  function trim(hs: HttpSession): void {
    while (hs.log.length - hs.logHead > maxEvents || (hs.logBytes > maxBytes && hs.log.length > hs.logHead)) {
      const ev = hs.log[hs.logHead++];
      hs.logBytes -= ev.bytes;
      ev.stream.retained--;
      if (ev.stream.done && ev.stream.retained === 0 && !ev.stream.sink) hs.streams.delete(ev.stream.num);
    }
    if (hs.logHead > 64 && hs.logHead * 2 > hs.log.length) {
      hs.log = hs.log.slice(hs.logHead);
      hs.logHead = 0;
    }
  }

  // -- routing of outgoing messages --------------------------------------------

  function route(hs: HttpSession, text: string, meta?: SendMeta): void {
    if (hs.ended) return;
    if (meta?.responseTo !== undefined) {
      const ids = Array.isArray(meta.responseTo) ? meta.responseTo : [meta.responseTo];
      let r: Route | undefined;
      for (const id of ids) if ((r = hs.owners.get(id))) break;
      if (!r) return; // nobody is waiting for it any more
      respond(hs, r, text, ids);
      return;
    }
    if (meta?.relatedTo !== undefined) {
      const r = hs.owners.get(meta.relatedTo);
      if (r && r.mode !== "json") return push(hs, r, text);
      return hs.write(hs.standalone, text);
    }
    // The dispatcher's answer to a POST it could not take (a refused batch) has no meta and id null.
    if (hs.capture && isRefusal(text)) {
      hs.capture.buffer.push({ text, response: true });
      return;
    }
    hs.write(hs.standalone, text);
  }

  function push(hs: HttpSession, r: Route, text: string): void {
    if (r.mode === "undecided") r.buffer.push({ text, response: false });
    else if (r.mode === "sse") hs.write(r.stream!, text);
    else hs.write(hs.standalone, text);
  }

  function respond(hs: HttpSession, r: Route, text: string, ids: RequestId[]): void {
    for (const id of ids) {
      if (hs.owners.get(id) === r) hs.owners.delete(id);
      r.pending.delete(id);
    }
    if (r.mode === "undecided") r.buffer.push({ text, response: true });
    else if (r.mode === "sse") hs.write(r.stream!, text);
    else r.json.push(text);
    if (!r.pending.size && r.mode !== "undecided") finish(hs, r);
  }

  function finish(hs: HttpSession, r: Route): void {
    if (r.mode === "sse") {
      const s = r.stream!;
      if (s.done) return;
      s.done = true;
      s.sink?.close();
      s.sink = undefined;
      if (s.retained === 0) hs.streams.delete(s.num);
    } else if (r.mode === "json" && r.resolveJson) {
      const resolve = r.resolveJson;
      r.resolveJson = undefined;
      resolve(r.json);
    }
  }

  function jsonResponse(frames: string[], headers: Record<string, string> = {}): Response {
    if (!frames.length) return new Response(null, { status: 202, headers });
    const body = frames.length === 1 ? frames[0] : `[${frames.join(",")}]`;
    return new Response(body, { status: 200, headers: { "content-type": "application/json", ...headers } });
  }

  // -- SSE responses ------------------------------------------------------------

  function openSink(
    hs: HttpSession,
    stream: Stream,
    req: Request,
    bunServer: BunHttpServerLike | undefined,
    prime: number | undefined,
  ): ReadableStream<Uint8Array> {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let timer: ReturnType<typeof setInterval> | undefined;
    let closed = false;
    const gone = () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      if (stream.sink === sink) {
        stream.sink = undefined;
        hs.lastActive = Date.now();
        if (stream.done && stream.retained === 0) hs.streams.delete(stream.num);
      }
    };
    const sink: Sink = {
      get closed() {
        return closed;
      },
      write(chunk) {
        if (closed) return;
        try {
          controller.enqueue(enc.encode(chunk));
        } catch {
          return gone();
        }
        // A client that stops reading loses this connection, not its events: it can resume.
        if ((controller.desiredSize ?? 0) < 0) sink.close();
      },
      close() {
        if (closed) return;
        gone();
        try {
          controller.close();
        } catch { /* already closed or cancelled */ }
      },
    };
    const body = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
        },
        cancel: gone,
      },
      new ByteLengthQueuingStrategy({ highWaterMark: maxBuffered }),
    );
    if (keepAlive > 0) timer = setInterval(() => sink.write(": keep-alive\n\n"), keepAlive);
    try {
      bunServer?.timeout?.(req, 0);
    } catch { /* not Bun */ }
    stream.sink?.close();
    stream.sink = sink;
    // Priming: an event id before anything else, so the client can resume even an empty stream.
    // It names the point the stream starts from; a resumed stream needs none.
    if (prime !== undefined && hs.session.protocolVersion >= PRIMING_SINCE) {
      sink.write(`id: ${stream.num}-${prime}\nretry: ${hs.retry}\ndata:\n\n`);
    }
    return body;
  }

  function sseResponse(body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Response {
    return new Response(body, {
      status: 200,
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers },
    });
  }

  function replay(hs: HttpSession, stream: Stream, after: number): number {
    let count = 0;
    for (let i = hs.logHead; i < hs.log.length; i++) {
      const ev = hs.log[i];
      if (ev.stream !== stream || ev.n <= after) continue;
      stream.sink?.write(`id: ${stream.num}-${ev.n}\n${sseData(ev.text)}\n\n`);
      if (stream.standalone) stream.delivered = ev.n;
      count++;
    }
    return count;
  }

  // -- requests -------------------------------------------------------------------

  async function readBody(req: Request): Promise<string | Response> {
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (declared > maxBody) return rpcError(413, ErrorCode.InvalidRequest, `Request body larger than ${maxBody} bytes`);
    if (!req.body) return "";
    const reader = req.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBody) {
          await reader.cancel().catch(() => {});
          return rpcError(413, ErrorCode.InvalidRequest, `Request body larger than ${maxBody} bytes`);
        }
        chunks.push(value);
      }
    } catch {
      return rpcError(400, ErrorCode.InvalidRequest, "Bad Request: the request body could not be read");
    }
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) (all.set(c, at), at += c.byteLength);
    return new TextDecoder().decode(all);
  }

  function findSession(req: Request, auth: unknown): HttpSession | Response {
    const token = req.headers.get("mcp-session-id");
    if (!token) {
      return rpcError(400, ErrorCode.InvalidRequest, "Bad Request: the Mcp-Session-Id header is required");
    }
    const hs = sessions.get(token);
    // A session belongs to whoever opened it: another principal holding its id does not find it.
    if (!hs || (options.authenticate && principalOf(auth) !== hs.principal)) {
      return rpcError(404, ErrorCode.InvalidRequest, "Session not found: initialize a new session");
    }
    const version = req.headers.get("mcp-protocol-version");
    if (version !== null && !versions.has(version)) {
      return rpcError(
        400,
        ErrorCode.InvalidRequest,
        `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(version)} (supported: ${
          [...versions].join(", ")
        })`,
      );
    }
    hs.lastActive = Date.now();
    return hs;
  }

  async function post(req: Request, auth: unknown, bunServer?: BunHttpServerLike): Promise<Response> {
    const type = req.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
    if (type !== "application/json") {
      return rpcError(415, ErrorCode.InvalidRequest, "Unsupported Media Type: send Content-Type: application/json");
    }
    const body = await readBody(req);
    if (body instanceof Response) return body;
    if (closing) {
      return rpcError(503, ErrorCode.ConnectionClosed, "The server is shutting down", { "Retry-After": "5" });
    }
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return new Response(
        JSON.stringify({
          jsonrpc: "2.0",
          id: null,
          error: { code: ErrorCode.ParseError, message: "Parse error: the body is not valid JSON" },
        }),
        { status: 400, headers: { "content-type": "application/json" } },
      );
    }
    const items = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && !items.length) {
      return rpcError(400, ErrorCode.InvalidRequest, "Invalid Request: an empty batch is not a valid request");
    }
    const ids: RequestId[] = [];
    const seen = new Set<RequestId>();
    let initialize = false;
    for (const item of items) {
      const c = classify(item);
      if (c.kind === "invalid" && !Array.isArray(value)) {
        const err = { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${c.reason}` };
        return new Response(c.id === null ? JSON.stringify({ jsonrpc: "2.0", error: err }) : errorFrame(c.id, err), {
          status: 400,
          headers: { "content-type": "application/json" },
        });
      }
      if (c.kind !== "request") continue;
      if (seen.has(c.msg.id)) {
        return rpcError(400, ErrorCode.InvalidRequest, "Invalid Request: two requests in one batch share an id");
      }
      ids.push(c.msg.id);
      seen.add(c.msg.id);
      if (c.msg.method === "initialize") initialize = true;
    }

    if (!req.headers.has("mcp-session-id") && !Array.isArray(value) && perRequestVersion(value) !== undefined) {
      return stateless(req, value as { id?: RequestId; method?: unknown; params?: Record<string, unknown> }, auth);
    }

    let hs: HttpSession;
    let created = false;
    if (!req.headers.has("mcp-session-id")) {
      if (!initialize || Array.isArray(value)) {
        return rpcError(
          400,
          ErrorCode.InvalidRequest,
          "Bad Request: send the Mcp-Session-Id header, or an initialize request (alone) to open a session",
        );
      }
      if (sessions.size >= maxSessions) {
        return rpcError(503, ErrorCode.ConnectionClosed, "Too many sessions", { "Retry-After": "5" });
      }
      hs = newSession(auth);
      created = true;
    } else {
      const found = findSession(req, auth);
      if (found instanceof Response) return found;
      hs = found;
    }

    const accept = accepts(req);
    if (ids.length && !accept.json && !accept.sse) {
      if (created) hs.end("not acceptable");
      return rpcError(
        406,
        ErrorCode.InvalidRequest,
        "Not Acceptable: accept application/json and text/event-stream",
      );
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

    const r: Route = { pending: new Set(ids), mode: "undecided", buffer: [], json: [], closeRequested: false };
    for (const id of ids) hs.owners.set(id, r);
    hs.capture = r;
    try {
      hs.session.receiveValue(value);
    } finally {
      hs.capture = undefined;
    }

    const headers: Record<string, string> = {};
    if (hs.ended && !created) {
      // A handler closed the session while this POST was dispatched.
      return jsonResponse(r.buffer.filter((b) => b.response).map((b) => b.text));
    }
    if (created) {
      if (!hs.session.ready) {
        // initialize failed: answer it, keep no session
        const frames = r.buffer.filter((b) => b.response).map((b) => b.text);
        hs.end("initialize failed");
        return jsonResponse(frames);
      }
      sessions.set(hs.token, hs);
      sessionsChanged();
      headers["mcp-session-id"] = hs.token;
    }

    // The dispatcher refused the whole POST (e.g. a batch under a version without batches).
    if (!ids.length || r.buffer.some((b) => b.response && isRefusal(b.text))) {
      for (const id of ids) if (hs.owners.get(id) === r) hs.owners.delete(id);
      const refused = r.buffer.filter((b) => b.response).map((b) => b.text);
      for (const b of r.buffer) if (!b.response) hs.write(hs.standalone, b.text);
      if (refused.length) {
        return new Response(refused.length === 1 ? refused[0] : `[${refused.join(",")}]`, {
          status: 400,
          headers: { "content-type": "application/json", ...headers },
        });
      }
      return new Response(null, { status: 202, headers });
    }

    const answered = r.pending.size === 0;
    const extras = r.buffer.some((b) => !b.response);
    const json = accept.json && (!accept.sse || (answered && !extras && !r.closeRequested));
    if (json) {
      r.mode = "json";
      for (const b of r.buffer) {
        if (b.response) r.json.push(b.text);
        else hs.write(hs.standalone, b.text);
      }
      r.buffer = [];
      if (answered) return jsonResponse(r.json, headers);
      return await new Promise<Response>((resolve) => {
        r.resolveJson = (frames) => resolve(jsonResponse(frames, headers));
      });
    }

    r.mode = "sse";
    const stream: Stream = { num: hs.nextStream++, standalone: false, done: false, retained: 0, delivered: 0 };
    hs.streams.set(stream.num, stream);
    r.stream = stream;
    const out = openSink(hs, stream, req, bunServer, hs.counter);
    const buffered = r.buffer;
    r.buffer = [];
    for (const b of buffered) hs.write(stream, b.text);
    if (answered) finish(hs, r);
    else if (r.closeRequested) closeStream(hs, stream);
    return sseResponse(out, headers);
  }

  // -- 2026-07-28: one request per POST, no session ----------------------------------

  const transients = new Set<Session>();

  function stateless(
    req: Request,
    msg: { id?: RequestId; method?: unknown; params?: Record<string, unknown> },
    auth: unknown,
  ): Response {
    const version = perRequestVersion(msg)!;
    // The headers let intermediaries route without reading the body; they must agree with it.
    const header = req.headers.get("mcp-protocol-version");
    if (header !== version) {
      return rpcError(
        400,
        ErrorCode.HeaderMismatch,
        `Header mismatch: MCP-Protocol-Version is ${JSON.stringify(header)} but _meta says ${JSON.stringify(version)}`,
      );
    }
    const method = req.headers.get("mcp-method");
    if (method !== msg.method) {
      return rpcError(
        400,
        ErrorCode.HeaderMismatch,
        `Header mismatch: Mcp-Method is ${JSON.stringify(method)} but the body's method is ${
          JSON.stringify(msg.method)
        }`,
      );
    }
    const id = msg.id;
    const accept = accepts(req);
    if (id !== undefined && !accept.json && !accept.sse) {
      return rpcError(406, ErrorCode.InvalidRequest, "Not Acceptable: accept application/json and text/event-stream");
    }
    // Frames before the response (progress, logs, listen notifications) need a stream; JSON drops them.
    const early: string[] = [];
    let response: string | undefined;
    let write: ((text: string) => void) | undefined;
    // Ends the response body once, with the last frame if any; the client may have gone, so nothing here throws.
    let done: ((text: string | undefined) => void) | undefined;
    const finish = (text: string | undefined) => {
      const d = done;
      done = undefined;
      d?.(text);
    };
    const session = server.connect({
      send(text, meta) {
        if (meta?.responseTo === id && id !== undefined) {
          response = text;
          finish(text);
        } else if (write) write(text);
        else early.push(text);
      },
      close() {
        // Shutdown: a request still unanswered gets an error rather than an empty body.
        if (id !== undefined && response === undefined) {
          finish(errorFrame(id, { code: ErrorCode.ConnectionClosed, message: "The server is shutting down" }));
        } else finish(undefined);
      },
      noResponse() {
        finish(undefined);
      },
    }, { auth, transport: "http" });
    transients.add(session);
    const end = () => (transients.delete(session), session.closed());
    session.receiveValue(msg);
    if (id === undefined) return (end(), new Response(null, { status: 202 }));
    // Answered at once: JSON, unless the client takes only SSE (errors are JSON with their status either way).
    if (response !== undefined && (accept.json || statusOf(response) !== 200)) {
      end();
      return new Response(response, { status: statusOf(response), headers: { "content-type": "application/json" } });
    }
    if (!accept.sse) {
      return new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            done = (text) => {
              end();
              try {
                if (text !== undefined) c.enqueue(enc.encode(text));
                c.close();
              } catch { /* the client hung up */ }
            };
          },
          cancel: () => (done = undefined, end()),
        }),
        { status: 200, headers: { "content-type": "application/json" } },
      );
    }
    let n = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          write = (text) => {
            try {
              c.enqueue(enc.encode(`id: ${++n}\n${sseData(text)}\n\n`));
            } catch { /* the client hung up */ }
          };
          for (const t of early.splice(0)) write(t);
          done = (text) => {
            if (text !== undefined) write!(text);
            write = undefined;
            end();
            try {
              c.close();
            } catch { /* the client hung up */ }
          };
          if (response !== undefined) finish(response);
        },
        // The client hung up: abort the handler, end a listen without a result.
        cancel: () => (done = undefined, write = undefined, end()),
      }),
      { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
    );
  }

  function get(req: Request, auth: unknown, bunServer?: BunHttpServerLike): Response {
    if (!isStreamRequest(req)) return endpointInfo(req, server, websocket);
    if (!accepts(req).sse) {
      return rpcError(406, ErrorCode.InvalidRequest, "Not Acceptable: a GET stream needs Accept: text/event-stream");
    }
    const found = findSession(req, auth);
    if (found instanceof Response) return found;
    const hs = found;
    const last = req.headers.get("last-event-id");
    if (last === null) {
      // Events sent while no GET stream was open come first; the priming id points before them.
      const out = openSink(hs, hs.standalone, req, bunServer, hs.standalone.delivered);
      replay(hs, hs.standalone, hs.standalone.delivered);
      return sseResponse(out);
    }
    const m = /^(\d{1,15})-(\d{1,15})$/.exec(last);
    if (!m) {
      return rpcError(400, ErrorCode.InvalidRequest, "Bad Request: Last-Event-ID is not an event id of this server");
    }
    const num = Number(m[1]);
    const after = Number(m[2]);
    const stream = num === 0 ? hs.standalone : hs.streams.get(num);
    // A stream that is finished (and fully replayed) or forgotten has nothing more to send.
    if (!stream || (stream.done && !hasEventsAfter(hs, stream, after))) return new Response(null, { status: 204 });
    const out = openSink(hs, stream, req, bunServer, undefined);
    replay(hs, stream, after);
    if (stream.done) closeStream(hs, stream);
    return sseResponse(out);
  }

  function hasEventsAfter(hs: HttpSession, stream: Stream, after: number): boolean {
    for (let i = hs.logHead; i < hs.log.length; i++) {
      if (hs.log[i].stream === stream && hs.log[i].n > after) return true;
    }
    return false;
  }

  function closeStream(hs: HttpSession, stream: Stream): void {
    const sink = stream.sink;
    if (!sink) return;
    sink.write(`retry: ${hs.retry}\n\n`);
    sink.close();
  }

  return {
    async fetch(req: Request, bunServer?: BunHttpServerLike) {
      const url = new URL(req.url);
      if (url.pathname !== path) return notFound(path);
      const method = req.method;
      if (method !== "POST" && method !== "GET" && method !== "DELETE") {
        return new Response("Method Not Allowed\n", { status: 405, headers: { Allow: "GET, POST, DELETE" } });
      }
      if (closing && method !== "DELETE") {
        return rpcError(503, ErrorCode.ConnectionClosed, "The server is shutting down", { "Retry-After": "5" });
      }
      const checked = await checkRequest(req, originAllowed, options);
      if (checked instanceof Response) return checked;
      // Re-check: authenticate may have awaited while close() began.
      if (closing && method !== "DELETE") {
        return rpcError(503, ErrorCode.ConnectionClosed, "The server is shutting down", { "Retry-After": "5" });
      }
      if (method === "POST") return await post(req, checked.auth, bunServer);
      if (method === "GET") return get(req, checked.auth, bunServer);
      const found = findSession(req, checked.auth);
      if (found instanceof Response) return found;
      found.end("The client ended the session");
      return new Response(null, { status: 200 });
    },
    get sessions() {
      return sessions.size;
    },
    async close(opts = {}) {
      closing = true;
      const timeout = opts.timeout ?? 10_000;
      const all = [...sessions.values()];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, timeout)));
      const oneShot = [...transients];
      await Promise.race([
        Promise.all([...all, ...oneShot.map((session) => ({ session }))].map((x) => x.session.drain())),
        deadline,
      ]);
      clearTimeout(timer);
      for (const session of oneShot) {
        (session.abortAll("The server is shutting down"), session.close(1001, "shutting down"));
      }
      for (const hs of all) hs.session.abortAll("The server is shutting down");
      for (const hs of all) hs.end("The server is shutting down");
      sessionsChanged();
    },
  };
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
  const hs = bySession.get(ctx.session);
  if (!hs || hs.ended || hs.session.protocolVersion < PRIMING_SINCE) return false;
  const r = hs.owners.get(ctx.requestId);
  if (!r) return false;
  if (r.mode === "undecided") {
    r.closeRequested = true;
    return true;
  }
  if (r.mode !== "sse" || !r.stream?.sink) return false;
  r.stream.sink.write(`retry: ${hs.retry}\n\n`);
  r.stream.sink.close();
  return true;
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
  return {
    fetch: ((req: Request, bunServer?: BunServerLike & BunHttpServerLike) => {
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
