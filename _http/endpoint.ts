// The Streamable HTTP endpoint behind httpHandler() and mcpHandler(): its sessions, and the POST, GET
// and DELETE requests on its path (OPTIONS and the CORS headers of browser origins: _edge/cors.ts). What it
// answers is documented in transport_http.ts.

import { classify, ErrorCode, errorFrame, type RequestId } from "../jsonrpc.ts";
import type { Refusal } from "../channel.ts";
import { coreOf, type McpServer } from "../server.ts";
import type { CloseOptions } from "../channel.ts";
import type { Lease } from "../_core/core.ts";
import type { BunHttpServerLike, HttpHandler, HttpOptions } from "../transport_http.ts";
import {
  type Admission,
  admit,
  checkAdmissionOptions,
  drainSessions,
  endpointInfo,
  isPath,
  originCheck,
  originRefused,
  otherPath,
} from "../_edge/admission.ts";
import { ALLOW, preflight, withCors } from "../_edge/cors.ts";
import { accepts, jsonResponse, notAcceptable, readBody, rpcError } from "../_util/http.ts";
import type { HttpSession } from "./session.ts";
import { SessionTable } from "./session_table.ts";
import type { PostAnswer } from "./post_answer.ts";
import { endStreamAt, type SseLimits, sseResponse, type Stream } from "./sse.ts";
import { PerRequestPosts } from "./per_request.ts";
import { perRequestVersion, primesStreams } from "../versions.ts";
import { type ClusterNode, ownerOf } from "../_cluster/node.ts";

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

/** The handler of an endpoint; `websocket`: whether WebSocket is served on the same path (for the answer to a plain GET). */
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
  #perRequest: PerRequestPosts;
  #closing = false;
  #maxBuffered: number;
  #cluster?: ClusterNode;
  #lease: Lease;

  constructor(
    private readonly server: McpServer,
    private readonly options: HttpOptions,
    private readonly websocket: boolean,
  ) {
    checkAdmissionOptions(options);
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
    this.#maxBuffered = limits.maxBuffered;
    this.#originAllowed = originCheck(options.allowedOrigins);
    this.#authenticated = !!(options.authenticate || options.oauth);
    const core = coreOf(server);
    this.#cluster = core.cluster;
    // In a cluster a session id starts with its owner's id, so that any instance knows where to forward it.
    const prefix = this.#cluster ? `${this.#cluster.id}.` : "";
    this.sessions = new SessionTable(server, limits, options.sessionIdleTimeout ?? 600_000, prefix);
    this.#perRequest = new PerRequestPosts(server, options.oauth);
    // Holds the server's tasks up while serving; in a cluster, also serves requests forwarded by other instances.
    this.#lease = core.attach({
      path: this.#path,
      fetch: (req) => this.fetch(req),
      holds: (token) => this.sessions.has(token),
    });
  }

  fetch(req: Request, bunServer?: BunHttpServerLike): Promise<Response> {
    // Not async, to spare a promise hop per request; so whatever throws here (a user's allowedOrigins function) is
    // turned into a rejection by hand, as an async function would.
    try {
      const origin = req.headers.get("origin");
      // No Origin (not a browser): nothing more to do than before CORS.
      if (origin === null) return this.#fetch(req, origin, false, bunServer);
      // An admitted origin gets the CORS headers on whatever is answered, also by another instance of a cluster.
      if (this.#originAllowed(origin)) {
        return this.#fetch(req, origin, true, bunServer).then((res) => withCors(res, origin));
      }
      return this.#fetch(req, origin, false, bunServer);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #fetch(req: Request, origin: string | null, admitted: boolean, bunServer?: BunHttpServerLike): Promise<Response> {
    const method = req.method;
    if (!isPath(req, this.#path)) {
      // A page of an admitted origin may preflight the OAuth metadata document too (clients send headers with it).
      if (
        method === "OPTIONS" && origin !== null && admitted &&
        this.options.oauth?.metadataResponse(new Request(req.url))
      ) {
        return Promise.resolve(preflight(req, origin));
      }
      return Promise.resolve(otherPath(req, this.#path, this.options));
    }
    if (method !== "POST" && method !== "GET" && method !== "DELETE") {
      // A preflight carries no credentials: it is answered before the authenticate hook, refused only for its origin.
      if (method === "OPTIONS") {
        return Promise.resolve(origin !== null && !admitted ? originRefused(origin) : preflight(req, origin));
      }
      return Promise.resolve(new Response("Method Not Allowed\n", { status: 405, headers: { Allow: ALLOW } }));
    }
    if (this.#closing && method !== "DELETE") return Promise.resolve(shuttingDown());
    const checked = origin !== null && !admitted ? originRefused(origin) : admit(req, this.options);
    // Without an authenticate hook the request goes on at once; with one, once it has answered.
    return checked instanceof Promise
      ? checked.then((c) => this.#admitted(req, method, c, bunServer))
      : this.#admitted(req, method, checked, bunServer);
  }

  async close(opts: CloseOptions = {}): Promise<void> {
    this.#closing = true;
    await this.#lease.end(async () => {
      const all = [...this.sessions.values()];
      const oneShot = [...this.#perRequest.running];
      await drainSessions([...all.map((hs) => hs.session), ...oneShot], opts.timeout ?? 10_000);
      for (const session of oneShot) session.close("The server is shutting down");
      for (const hs of all) hs.end("The server is shutting down");
    });
  }

  // A request for a session another instance owns: that instance checks and answers it.
  async #forward(req: Request, owner: string, bunServer?: BunHttpServerLike): Promise<Response> {
    let body: string | undefined;
    if (req.method === "POST") {
      const read = await readBody(req, this.#maxBody);
      if (read instanceof Response) return read;
      body = read;
    }
    const res = await this.#cluster!.forward(owner, req, body, this.#maxBuffered);
    if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
      try {
        bunServer?.timeout?.(req, 0);
      } catch { /* not Bun */ }
    }
    return res;
  }

  #admitted(
    req: Request,
    method: string,
    checked: Response | Admission,
    bunServer?: BunHttpServerLike,
  ): Promise<Response> {
    if (checked instanceof Response) return Promise.resolve(checked);
    // Re-check: authenticate may have awaited while close() began.
    if (this.#closing && method !== "DELETE") return Promise.resolve(shuttingDown());
    if (this.#cluster) {
      // A session another instance owns: admitted here like any request, then checked and answered there.
      const token = req.headers.get("mcp-session-id");
      const owner = token === null ? undefined : ownerOf(token);
      if (owner !== undefined && owner !== this.#cluster.id) return this.#forward(req, owner, bunServer);
    }
    // A stream opened with an access token ends when the token expires, as a WebSocket closes.
    const expires = checked.expires;
    if (method === "POST") {
      const res = this.#post(req, checked.auth, bunServer);
      return expires === undefined ? res : res.then((r) => endStreamAt(r, expires));
    }
    if (method === "GET") {
      const res = this.#get(req, checked.auth, bunServer);
      return Promise.resolve(expires === undefined ? res : endStreamAt(res, expires));
    }
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
    const token = req.headers.get("mcp-session-id");
    const hasSession = token !== null;
    const version = batch ? undefined : perRequestVersion(value);
    if (!hasSession && typeof version === "string") return this.#perRequest.post(req, value as never, version, auth);

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
      const known = this.sessions.find(req, auth, this.#authenticated, token);
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
    const answer = hs.answerFor(ids);
    const refusal = hs.session.dispatch(value, auth);
    return this.#answer(req, hs, answer, { ids, created, refusal, accept, auth, bunServer });
  }

  // The answer to a dispatched POST: JSON when the client takes it and nothing but responses comes, else SSE.
  #answer(
    req: Request,
    hs: HttpSession,
    a: PostAnswer,
    how: {
      ids: RequestId[];
      created: boolean;
      refusal?: Refusal;
      accept: { json: boolean; sse: boolean };
      auth: unknown;
      bunServer?: BunHttpServerLike;
    },
  ): Response | Promise<Response> {
    const { ids, created, refusal, accept } = how;
    let headers: Record<string, string> | undefined; // the session id, on the answer to initialize
    // A handler closed the session while this POST was dispatched.
    if (hs.ended && !created) return jsonResponse(a.responses());
    if (created) {
      if (!hs.session.ready) {
        // initialize failed: answer it, keep no session
        const frames = a.responses();
        hs.end("initialize failed");
        return jsonResponse(frames);
      }
      this.sessions.add(hs);
      headers = { "mcp-session-id": hs.token };
    }

    // The dispatcher refused the whole POST (e.g. a batch under a version without batches), or it held no request.
    if (refusal || !ids.length) {
      hs.release(a, ids);
      a.drop();
      if (refusal) return jsonResponse([refusal.text], headers, 400);
      return new Response(null, { status: 202, headers });
    }

    const oauth = this.options.oauth;
    const settled = a.answered && !a.hasExtras;
    // A request refused at once for want of a scope is a 403 (in JSON), whatever the client accepts.
    const forbidden = settled && !!a.requiredScopes && !!oauth && ids.length === 1;
    if ((accept.json || forbidden) && (!accept.sse || (settled && !a.closeRequested))) {
      // One request refused for want of a scope: 403 with the challenge, for the client to step up.
      const respond = (frames: string[]) =>
        a.requiredScopes && oauth && ids.length === 1 && frames.length === 1
          ? oauth.insufficientScope(a.requiredScopes, how.auth, frames[0])
          : jsonResponse(frames, headers);
      const frames = a.json();
      return Array.isArray(frames) ? respond(frames) : frames.then(respond);
    }

    const stream = hs.events.newStream();
    const out = this.#connect(hs, stream, req, how.bunServer, hs.events.last);
    a.sse(stream);
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
