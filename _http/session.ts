// One Streamable HTTP session: its MCP Session, and where each message the dispatcher sends goes.
// A response goes to the POST that carried its request (as JSON, or on that POST's SSE stream);
// what a handler sends meanwhile goes on the same stream; everything else on the standalone GET
// stream. Routing uses the dispatcher's SendMeta only: no frame is read here.

import { ErrorCode, errorFrame, type RequestId } from "../jsonrpc.ts";
import type { Channel, SendMeta } from "../channel.ts";
import type { McpServer } from "../server.ts";
import type { Session } from "../session.ts";
import { EventLog, type SseLimits, type Stream } from "./sse.ts";
import { rpcError } from "../_util/http.ts";
import { principalOf } from "../_util/util.ts";
import { PER_REQUEST_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS } from "../versions.ts";

/** Where the messages of one POST go. */
export interface PostRoute {
  pending: Set<RequestId>;
  mode: "undecided" | "sse" | "json";
  /** Messages sent before the transport chose JSON or SSE. */
  buffer: { text: string; response: boolean }[];
  stream?: Stream;
  json: string[];
  resolveJson?: (frames: string[]) => void;
  /** A handler asked to close the stream before the transport chose it (closeSseStream). */
  closeRequested: boolean;
  /** A response refused its request for want of these OAuth scopes. */
  requiredScopes?: readonly string[];
}

export function newRoute(ids: RequestId[]): PostRoute {
  return { pending: new Set(ids), mode: "undecided", buffer: [], json: [], closeRequested: false };
}

// Lets closeSseStream() find a session's HTTP state from a handler's context.
const bySession = new WeakMap<Session, HttpSession>();

/** The HTTP session a {@linkcode Session} belongs to, if it is one. */
export function httpSessionOf(session: Session): HttpSession | undefined {
  return bySession.get(session);
}

export class HttpSession {
  /** The session id (`Mcp-Session-Id`): 24 random bytes. */
  readonly token: string;
  /** Who opened it (the `authenticate` result, serialized). */
  readonly principal: string;
  readonly session: Session;
  /** The POST each request in flight came with. */
  readonly owners = new Map<RequestId, PostRoute>();
  readonly events: EventLog;
  lastActive = Date.now();
  ended = false;

  /** `onEnd` is told once, when the session ends. */
  constructor(
    server: McpServer,
    auth: unknown,
    limits: SseLimits,
    private readonly onEnd: (hs: HttpSession) => void,
    prefix = "",
  ) {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    this.token = prefix + btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
    this.principal = principalOf(auth);
    this.events = new EventLog(limits, () => (this.lastActive = Date.now()));
    const channel: Channel = {
      send: (text, meta) => this.#route(text, meta),
      close: (reason) => this.end(reason || "The server closed the session"),
      noResponse: (id) => {
        const r = this.owners.get(id);
        if (!r) return;
        this.owners.delete(id);
        r.pending.delete(id);
        if (!r.pending.size && r.mode !== "undecided") this.finish(r);
      },
    };
    this.session = server.connect(channel, { auth, transport: "http" });
    bySession.set(this.session, this);
  }

  #route(text: string, meta?: SendMeta): void {
    if (this.ended) return;
    if (meta?.responseTo !== undefined) {
      const ids = Array.isArray(meta.responseTo) ? meta.responseTo : [meta.responseTo];
      let r: PostRoute | undefined;
      for (const id of ids) if ((r = this.owners.get(id))) break;
      if (!r) return; // nobody is waiting for it any more
      if (meta.requiredScopes) r.requiredScopes = meta.requiredScopes;
      this.#respond(r, text, ids);
      return;
    }
    if (meta?.relatedTo !== undefined) {
      const r = this.owners.get(meta.relatedTo);
      if (r && r.mode !== "json") return this.#push(r, text);
    }
    this.events.write(this.events.standalone, text);
  }

  #push(r: PostRoute, text: string): void {
    if (r.mode === "undecided") r.buffer.push({ text, response: false });
    else if (r.mode === "sse") this.events.write(r.stream!, text);
    else this.events.write(this.events.standalone, text);
  }

  #respond(r: PostRoute, text: string, ids: RequestId[]): void {
    for (const id of ids) {
      if (this.owners.get(id) === r) this.owners.delete(id);
      r.pending.delete(id);
    }
    if (r.mode === "undecided") r.buffer.push({ text, response: true });
    else if (r.mode === "sse") this.events.write(r.stream!, text);
    else r.json.push(text);
    if (!r.pending.size && r.mode !== "undecided") this.finish(r);
  }

  /** Every response of the POST is out: end its stream, or hand its JSON to the waiting response. */
  finish(r: PostRoute): void {
    if (r.mode === "sse") this.events.finish(r.stream!);
    else if (r.mode === "json" && r.resolveJson) {
      const resolve = r.resolveJson;
      r.resolveJson = undefined;
      resolve(r.json);
    }
  }

  /** Ends the session: requests still waiting get an error answer, every stream closes. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this);
    this.session.closed();
    const routes = new Set(this.owners.values());
    this.owners.clear();
    for (const r of routes) {
      for (const id of r.pending) {
        this.#respond(r, errorFrame(id, { code: ErrorCode.ConnectionClosed, message: reason }), [id]);
      }
    }
    this.events.clear();
  }
}

/** The open sessions of one endpoint, by id, with the sweep that ends idle ones. */
export class SessionTable {
  #sessions = new Map<string, HttpSession>();
  #sweeper?: ReturnType<typeof setInterval>;
  #versions = new Set([...SUPPORTED_PROTOCOL_VERSIONS, ...PER_REQUEST_PROTOCOL_VERSIONS]);

  /** `idleTimeout`: milliseconds a session may go without activity (0: forever); `prefix` starts every session id. */
  constructor(
    private readonly server: McpServer,
    private readonly limits: SseLimits,
    readonly idleTimeout: number,
    private readonly prefix = "",
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  /** Whether the session `token` is open here. */
  has(token: string): boolean {
    return this.#sessions.has(token);
  }

  values(): IterableIterator<HttpSession> {
    return this.#sessions.values();
  }

  /** A new session, not yet listed: {@linkcode SessionTable.add} lists it once `initialize` succeeded. */
  open(auth: unknown): HttpSession {
    return new HttpSession(this.server, auth, this.limits, (hs) => {
      if (this.#sessions.get(hs.token) === hs) this.#sessions.delete(hs.token);
      this.#changed();
    }, this.prefix);
  }

  add(hs: HttpSession): void {
    this.#sessions.set(hs.token, hs);
    this.#changed();
  }

  /** The session a request names, checked against who sent it and the protocol version it names; or the refusal. */
  find(
    req: Request,
    auth: unknown,
    authenticated: boolean,
    token: string | null = req.headers.get("mcp-session-id"),
  ): HttpSession | Response {
    if (!token) {
      return rpcError(400, ErrorCode.InvalidRequest, "Bad Request: the Mcp-Session-Id header is required");
    }
    const hs = this.#sessions.get(token);
    // A session belongs to whoever opened it: another principal holding its id does not find it.
    if (!hs || (authenticated && principalOf(auth) !== hs.principal)) {
      return rpcError(404, ErrorCode.InvalidRequest, "Session not found: initialize a new session");
    }
    const version = req.headers.get("mcp-protocol-version");
    if (version !== null && !this.#versions.has(version)) {
      return rpcError(
        400,
        ErrorCode.InvalidRequest,
        `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(version)} (supported: ${
          [...this.#versions].join(", ")
        })`,
      );
    }
    hs.lastActive = Date.now();
    return hs;
  }

  #sweep(): void {
    const now = Date.now();
    for (const hs of [...this.#sessions.values()]) {
      if (now - hs.lastActive < this.idleTimeout || hs.session.inFlight > 0 || hs.events.connected) continue;
      hs.end("The session expired");
    }
  }

  // The sweep runs only while there are sessions, so an idle endpoint keeps no timer.
  #changed(): void {
    const idle = this.idleTimeout;
    if (this.#sessions.size > 0 && idle > 0 && this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => this.#sweep(), Math.max(250, Math.min(idle / 2, 60_000)));
    } else if (this.#sessions.size === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
