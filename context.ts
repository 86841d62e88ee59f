/**
 * {@linkcode Context}: what a handler gets besides its arguments.
 *
 * @module
 */

import type { JsonRpcRequest, RequestId } from "./jsonrpc.ts";
import type {
  CreateMessageParams,
  CreateMessageResult,
  ElicitResult,
  Implementation,
  InferOutput,
  LoggingLevel,
  Root,
  StandardSchemaV1,
} from "./types.ts";
import type { ClientRequestOptions, Session } from "./session.ts";
import type { ElicitUrlOptions, UrlElicitResult } from "./url_elicitation.ts";

/**
 * The session's hold on a request in flight: its abort controller, whether
 * its answer is still wanted, its timeout. They live in the request's
 * Context (one object per request) and only the dispatcher reaches them,
 * through these functions. @internal
 */
export const inFlight = {} as {
  /** Aborts the handler's signal (made on first use). */
  abort(ctx: Context, reason: unknown): void;
  /** Marks the request as cancelled: its answer is no longer sent. */
  cancel(ctx: Context): void;
  cancelled(ctx: Context): boolean;
  /** Sets (or, with undefined, clears) the request's timeout. */
  timer(ctx: Context, timer: ReturnType<typeof setTimeout> | undefined): void;
};

/**
 * What a handler gets besides its arguments: cancellation, progress,
 * logging, and requests to the client.
 *
 * @example
 * ```ts
 * import { type Context, McpServer } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * server.tool("count", {}, async (_args, ctx: Context) => {
 *   for (let i = 1; i <= 3 && !ctx.signal.aborted; i++) ctx.progress(i, 3);
 *   return "counted";
 * });
 * ```
 */
export class Context {
  /** The session the request came in on. */
  readonly session: Session;
  /** The request's id. */
  readonly requestId: RequestId;
  /** The request's method. */
  readonly method: string;
  /** The request's `_meta`, if any. */
  readonly meta: Record<string, unknown> | undefined;
  /**
   * Who sent the request: the result of the transport's `authenticate`
   * hook, or with `oauth`, the verified `OAuthToken` the request
   * came with.
   */
  readonly auth: unknown;
  #controller?: AbortController = undefined;
  #cancelled = false;
  #timer?: ReturnType<typeof setTimeout> = undefined;
  #lastProgress = -Infinity;

  static {
    inFlight.abort = (ctx, reason) => (ctx.#controller ??= new AbortController()).abort(reason);
    inFlight.cancel = (ctx) => void (ctx.#cancelled = true);
    inFlight.cancelled = (ctx) => ctx.#cancelled;
    inFlight.timer = (ctx, timer) => {
      if (ctx.#timer !== undefined) clearTimeout(ctx.#timer);
      ctx.#timer = timer;
    };
  }

  /** @internal Made by the session for each request. */
  constructor(session: Session, msg: JsonRpcRequest) {
    this.session = session;
    this.requestId = msg.id;
    this.method = msg.method;
    const meta = msg.params?._meta;
    this.meta = typeof meta === "object" && meta !== null ? meta as Record<string, unknown> : undefined;
    this.auth = session.auth;
  }

  /** The protocol version of this request: its own (2026-07-28) or the session's. */
  get protocolVersion(): string {
    return this.session.protocolVersion;
  }

  /** The client's capabilities for this request: from its `_meta` (2026-07-28) or from `initialize`. */
  get clientCapabilities(): Record<string, unknown> {
    return this.session.clientCapabilities;
  }

  /** The client's name and version, if it said. */
  get clientInfo(): Implementation | undefined {
    return this.session.clientInfo;
  }

  /** Aborted when the client cancels, the connection closes, or the request times out. */
  get signal(): AbortSignal {
    // Made on first use: most handlers never look at it.
    return (this.#controller ??= new AbortController()).signal;
  }

  /** The id of the task this handler runs in (a task-augmented call), or undefined for a plain call. */
  get taskId(): string | undefined {
    return undefined;
  }

  /** The progress token the client sent, if any. */
  get progressToken(): string | number | undefined {
    const t = this.meta?.progressToken;
    return typeof t === "string" || typeof t === "number" ? t : undefined;
  }

  /**
   * Reports progress when the client asked for it (`_meta.progressToken`);
   * otherwise does nothing. `progress` must increase with every call.
   */
  progress(progress: number, total?: number, message?: string): void {
    const token = this.progressToken;
    if (token === undefined || this.#cancelled) return;
    if (!(progress > this.#lastProgress)) {
      throw new RangeError(`progress must increase with every report (${progress} after ${this.#lastProgress})`);
    }
    this.#lastProgress = progress;
    const params: Record<string, unknown> = { progressToken: token, progress };
    if (total !== undefined) params.total = total;
    if (message !== undefined) params.message = message;
    this.session.notify("notifications/progress", params, this.requestId);
  }

  /**
   * Sends a log message to this client, subject to its log level (under
   * 2026-07-28, the request's `logLevel`; none means no log messages).
   */
  log(level: LoggingLevel, data: unknown, logger?: string): void {
    this.session.log(level, data, logger, this.requestId);
  }

  /**
   * Asks the client's model for a completion; cancelled with this request.
   * Under 2026-07-28 this ends the call with `input_required` and resumes
   * when the client retries with the answer: the same code serves both.
   */
  sample(params: CreateMessageParams, options?: ClientRequestOptions): Promise<CreateMessageResult> {
    return this.session.sample(params, { signal: this.signal, relatedTo: this.requestId, ...options });
  }

  /** Asks the user for input (form mode); see {@linkcode Session.elicit} and {@linkcode Context.sample}. */
  elicit<S extends StandardSchemaV1>(
    message: string,
    schema: S,
    options?: ClientRequestOptions,
  ): Promise<ElicitResult<InferOutput<S>>> {
    return this.session.elicit(message, schema, { signal: this.signal, relatedTo: this.requestId, ...options });
  }

  /**
   * Asks the client to send the user to `url` (URL-mode elicitation), for
   * what must not pass through the client: a key, a third-party login, a
   * payment. See {@linkcode Session.elicitUrl}; under 2026-07-28 this ends
   * the call with `input_required`, like {@linkcode Context.sample}.
   *
   * @example
   * ```ts
   * import { McpServer } from "./mod.ts";
   * const server = new McpServer({ name: "demo", version: "1.0.0" });
   * server.tool("connect_account", {}, async (_args, ctx) => {
   *   const r = await ctx.elicitUrl("Sign in to Example", "https://mcp.example.com/connect");
   *   return r.action === "accept" ? `Opened (elicitation ${r.elicitationId})` : "Not connected";
   * });
   * ```
   */
  elicitUrl(message: string, url: string, options?: ElicitUrlOptions): Promise<UrlElicitResult> {
    return this.session.elicitUrl(message, url, { signal: this.signal, relatedTo: this.requestId, ...options });
  }

  /** Asks the client for its roots; see {@linkcode Context.sample}. */
  listRoots(options?: ClientRequestOptions): Promise<Root[]> {
    return this.session.listRoots({ signal: this.signal, relatedTo: this.requestId, ...options });
  }
}
