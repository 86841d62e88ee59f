// Protocol 2026-07-28 over HTTP: one request per POST and no session. The answer is JSON, or an SSE
// stream when the handler sends something first (progress, logs, a listen's notifications);
// protocol errors map to HTTP statuses.

import { ErrorCode, errorFrame, type RequestId } from "../jsonrpc.ts";
import type { McpServer } from "../server.ts";
import type { Session } from "../session.ts";
import type { OAuthResource } from "../oauth.ts";
import { accepts, notAcceptable, rpcError } from "../_util/http.ts";
import { sseData } from "./sse.ts";

const enc = new TextEncoder();

/** The HTTP status of a 2026-07-28 answer, from its error code. */
function statusOf(code: number | undefined): number {
  if (code === ErrorCode.MethodNotFound) return 404;
  if (code === ErrorCode.HeaderMismatch || code === ErrorCode.MissingClientCapability) return 400;
  if (code === ErrorCode.UnsupportedProtocolVersion) return 400;
  return 200;
}

type Message = { id?: RequestId; method?: unknown; params?: Record<string, unknown> };

/** The 2026-07-28 POSTs of one HTTP endpoint, and the one-request sessions they open. */
export class StatelessPosts {
  /** Sessions of requests still running. */
  readonly running: Set<Session> = new Set();

  /** `oauth`: for the 403 and scope challenge of a request refused for want of a scope. */
  constructor(private readonly server: McpServer, private readonly oauth?: OAuthResource) {}

  /** Answers a POST whose message names `version` in its `_meta`. */
  post(req: Request, msg: Message, version: string, auth: unknown): Response {
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
    if (id !== undefined && !accept.json && !accept.sse) return notAcceptable();
    // Frames before the response (progress, logs, listen notifications) need a stream; JSON drops them.
    const early: string[] = [];
    let response: string | undefined;
    let status = 200;
    let requiredScopes: readonly string[] | undefined;
    let write: ((text: string) => void) | undefined;
    // Ends the response body once, with the last frame if any; the client may have gone, so nothing here throws.
    let done: ((text: string | undefined) => void) | undefined;
    const finish = (text: string | undefined) => {
      const d = done;
      done = undefined;
      d?.(text);
    };
    const session = this.server.connect({
      send(text, meta) {
        if (meta?.responseTo === id && id !== undefined) {
          response = text;
          status = statusOf(meta?.error);
          requiredScopes = meta?.requiredScopes;
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
    this.running.add(session);
    const end = () => (this.running.delete(session), session.closed());
    session.dispatch(msg);
    if (id === undefined) return (end(), new Response(null, { status: 202 }));
    // Answered at once: JSON, unless the client takes only SSE (errors are JSON with their status either way).
    // A request refused for want of a scope is a 403 with the challenge, for the client to step up.
    const forbidden = requiredScopes && this.oauth;
    if (response !== undefined && (accept.json || status !== 200 || forbidden)) {
      end();
      if (forbidden) return forbidden.insufficientScope(requiredScopes!, auth, response);
      return new Response(response, { status, headers: { "content-type": "application/json" } });
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
}
