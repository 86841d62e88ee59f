// The open Streamable HTTP sessions of one endpoint, by id: opening one, finding the one a request
// names (and refusing it to anyone but who opened it), and the sweep that ends idle ones.

import { ErrorCode } from "../jsonrpc.ts";
import type { McpServer } from "../server.ts";
import { HttpSession } from "./session.ts";
import type { SseLimits } from "./sse.ts";
import { rpcError } from "../_util/http.ts";
import { principalOf } from "../_util/principal.ts";
import { PER_REQUEST_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS } from "../versions.ts";

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
