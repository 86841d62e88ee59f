// One Streamable HTTP session: its MCP Session, and where each message the dispatcher sends goes.
// A response goes to the POST that carried its request (as JSON, or on that POST's SSE stream);
// what a handler sends meanwhile goes on the same stream; everything else on the standalone GET
// stream. Routing uses the dispatcher's SendMeta only: no frame is read here.

import { ErrorCode, errorFrame, type RequestId } from "../jsonrpc.ts";
import type { Channel, SendMeta } from "../channel.ts";
import type { McpServer } from "../server.ts";
import type { Session } from "../session.ts";
import { EventLog, type SseLimits } from "./sse.ts";
import { PostAnswer } from "./post_answer.ts";
import { principalOf } from "../_util/principal.ts";
import { randomId } from "../_util/ids.ts";

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
  /** The answer of the POST each request in flight came with. */
  readonly owners = new Map<RequestId, PostAnswer>();
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
    this.token = prefix + randomId(24);
    this.principal = principalOf(auth);
    this.events = new EventLog(limits, () => (this.lastActive = Date.now()));
    const channel: Channel = {
      send: (text, meta) => this.#route(text, meta),
      close: (reason) => this.end(reason || "The server closed the session"),
      noResponse: (id) => {
        const a = this.owners.get(id);
        if (!a) return;
        this.owners.delete(id);
        a.unanswered(id);
      },
    };
    this.session = server.connect(channel, { auth, transport: "http" });
    bySession.set(this.session, this);
  }

  /** The answer of a POST carrying requests `ids`, which it owns from now on. */
  answerFor(ids: RequestId[]): PostAnswer {
    const a = new PostAnswer(ids, this.events);
    for (const id of ids) this.owners.set(id, a);
    return a;
  }

  /** Lets go of the requests of an answer that will not carry their responses (a refused POST). */
  release(a: PostAnswer, ids: RequestId[]): void {
    for (const id of ids) if (this.owners.get(id) === a) this.owners.delete(id);
  }

  #route(text: string, meta?: SendMeta): void {
    if (this.ended) return;
    if (meta?.responseTo !== undefined) {
      const ids = Array.isArray(meta.responseTo) ? meta.responseTo : [meta.responseTo];
      let a: PostAnswer | undefined;
      for (const id of ids) if ((a = this.owners.get(id))) break;
      if (!a) return; // nobody is waiting for it any more
      if (meta.requiredScopes) a.requiredScopes = meta.requiredScopes;
      this.release(a, ids);
      a.respond(text, ids);
      return;
    }
    if (meta?.relatedTo !== undefined) {
      const a = this.owners.get(meta.relatedTo);
      if (a?.carriesMessages) return a.push(text);
    }
    this.events.write(this.events.standalone, text);
  }

  /** Ends the session: requests still waiting get an error answer, every stream closes. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this);
    this.session.closed();
    const answers = new Set(this.owners.values());
    this.owners.clear();
    for (const a of answers) {
      for (const id of [...a.pending]) {
        a.respond(errorFrame(id, { code: ErrorCode.ConnectionClosed, message: reason }), [id]);
      }
    }
    this.events.clear();
  }
}
