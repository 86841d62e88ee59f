// Per-request (2026-07-28) messages over HTTP: one request per POST and no session. The answer is
// JSON, or an SSE stream when the handler sends something first (progress, logs, a listen's
// notifications); protocol errors map to HTTP statuses.

import { ErrorCode, errorFrame, type RequestId } from "../jsonrpc.ts";
import type { McpServer } from "../server.ts";
import type { Session } from "../session.ts";
import type { OAuthResource } from "../oauth.ts";
import { accepts, notAcceptable, rpcError } from "../_util/http.ts";
import { sseData } from "./sse.ts";

const enc = new TextEncoder();

/** The HTTP status of a per-request answer, from its error code. */
function statusOf(code: number | undefined): number {
  if (code === ErrorCode.MethodNotFound) return 404;
  if (code === ErrorCode.HeaderMismatch || code === ErrorCode.MissingClientCapability) return 400;
  if (code === ErrorCode.UnsupportedProtocolVersion) return 400;
  return 200;
}

type Message = { id?: RequestId; method?: unknown; params?: Record<string, unknown> };

/**
 * One request's run in a session of its own: what it sends before its response waits (or goes to
 * `write`, once a stream is open), and its end is handed to `done` once the body is chosen.
 */
class OneShot {
  /** Frames before the response (progress, logs, listen notifications): they need a stream; JSON drops them. */
  readonly early: string[] = [];
  response?: string;
  status = 200;
  requiredScopes?: readonly string[];
  write?: (text: string) => void;
  done?: (text: string | undefined) => void;
  readonly session: Session;

  constructor(
    server: McpServer,
    readonly id: RequestId | undefined,
    auth: unknown,
    readonly end: (s: Session) => void,
  ) {
    this.session = server.connect({
      send: (text, meta) => {
        if (meta?.responseTo === id && id !== undefined) {
          this.response = text;
          this.status = statusOf(meta?.error);
          this.requiredScopes = meta?.requiredScopes;
          this.finish(text);
        } else if (this.write) this.write(text);
        else this.early.push(text);
      },
      close: () => {
        // Shutdown: a request still unanswered gets an error rather than an empty body.
        if (id !== undefined && this.response === undefined) {
          this.finish(errorFrame(id, { code: ErrorCode.ConnectionClosed, message: "The server is shutting down" }));
        } else this.finish(undefined);
      },
      noResponse: () => this.finish(undefined),
    }, { auth, transport: "http" });
  }

  /** Ends the response body once, with the last frame if any; the client may have gone, so nothing here throws. */
  finish(text: string | undefined): void {
    const d = this.done;
    this.done = undefined;
    d?.(text);
  }

  /** The request's session is over: forget it. */
  close(): void {
    this.end(this.session);
    this.session.closed();
  }
}

/** The per-request POSTs of one HTTP endpoint, and the one-request sessions they open. */
export class PerRequestPosts {
  /** Sessions of requests still running. */
  readonly running: Set<Session> = new Set();

  /** `oauth`: for the 403 and scope challenge of a request refused for want of a scope. */
  constructor(private readonly server: McpServer, private readonly oauth?: OAuthResource) {}

  /** Answers a POST whose message names `version` in its `_meta`. */
  post(req: Request, msg: Message, version: string, auth: unknown): Response {
    const mismatch = headerMismatch(req, msg, version);
    if (mismatch) return mismatch;
    const id = msg.id;
    const accept = accepts(req);
    if (id !== undefined && !accept.json && !accept.sse) return notAcceptable();
    const shot = new OneShot(this.server, id, auth, (s) => this.running.delete(s));
    this.running.add(shot.session);
    shot.session.dispatch(msg);
    if (id === undefined) return (shot.close(), new Response(null, { status: 202 }));
    // Answered at once: JSON, unless the client takes only SSE (errors are JSON with their status either way).
    // A request refused for want of a scope is a 403 with the challenge, for the client to step up.
    const forbidden = shot.requiredScopes && this.oauth;
    if (shot.response !== undefined && (accept.json || shot.status !== 200 || forbidden)) {
      shot.close();
      if (forbidden) return forbidden.insufficientScope(shot.requiredScopes!, auth, shot.response);
      return new Response(shot.response, { status: shot.status, headers: { "content-type": "application/json" } });
    }
    return accept.sse ? sse(shot) : jsonLater(shot);
  }
}

// The headers let intermediaries route without reading the body; they must agree with it.
function headerMismatch(req: Request, msg: Message, version: string): Response | undefined {
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
      `Header mismatch: Mcp-Method is ${JSON.stringify(method)} but the body's method is ${JSON.stringify(msg.method)}`,
    );
  }
  return undefined;
}

// A client that takes only JSON, for a request still running: the body is the response once it comes.
function jsonLater(shot: OneShot): Response {
  return new Response(
    new ReadableStream<Uint8Array>({
      start(c) {
        shot.done = (text) => {
          shot.close();
          try {
            if (text !== undefined) c.enqueue(enc.encode(text));
            c.close();
          } catch { /* the client hung up */ }
        };
      },
      cancel: () => (shot.done = undefined, shot.close()),
    }),
    { status: 200, headers: { "content-type": "application/json" } },
  );
}

// An SSE stream: what the handler sent so far, then everything until the response, which ends it.
function sse(shot: OneShot): Response {
  let n = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      start(c) {
        shot.write = (text) => {
          try {
            c.enqueue(enc.encode(`id: ${++n}\n${sseData(text)}\n\n`));
          } catch { /* the client hung up */ }
        };
        for (const t of shot.early.splice(0)) shot.write(t);
        shot.done = (text) => {
          if (text !== undefined) shot.write!(text);
          shot.write = undefined;
          shot.close();
          try {
            c.close();
          } catch { /* the client hung up */ }
        };
        if (shot.response !== undefined) shot.finish(shot.response);
      },
      // The client hung up: abort the handler, end a listen without a result.
      cancel: () => (shot.done = undefined, shot.write = undefined, shot.close()),
    }),
    { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
  );
}
