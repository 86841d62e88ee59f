/**
 * {@linkcode Session}: one client connection and its dispatcher. It takes
 * the client's JSON-RPC messages from a transport, answers `initialize`,
 * runs each request's handler with a {@linkcode Context}, and sends the
 * answers and its own requests back through the transport's
 * {@linkcode Channel}. Nothing here knows about sockets.
 *
 * @module
 */

import {
  classify,
  ErrorCode,
  errorFrame,
  isRequest,
  type JsonRpcNotification,
  type JsonRpcRequest,
  McpError,
  notificationFrame,
  type RequestId,
  resultFrame,
} from "./jsonrpc.ts";
import type { Channel, Refusal, SendMeta, SessionInit } from "./channel.ts";
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
import { Context, inFlight } from "./context.ts";
import type { McpServer } from "./server.ts";
import type { ServerCore } from "./_core/core.ts";
import { ROUTES } from "./_dispatch/routes.ts";
import { PerRequestContext, unsupportedVersion } from "./_dispatch/per_request_context.ts";
import { PER_REQUEST_ROUTES, runPerRequest } from "./_dispatch/per_request_routes.ts";
import { Outbound } from "./_dispatch/outbound.ts";
import {
  elicitOutcome,
  elicitParams,
  rootsOf,
  supportsFormElicitation,
  supportsUrlElicitation,
  urlElicitation,
  urlElicitParams,
  urlOutcome,
} from "./_dispatch/elicitation.ts";
import type { ElicitUrlOptions, UrlElicitResult } from "./url_elicitation.ts";
import { type Answer, ErrorResponse, errorResponse, responseFrame } from "./_dispatch/results.ts";
import { levelRank } from "./_util/log_levels.ts";
import { later } from "./_util/timers.ts";
import { isRecord, isThenable, toErrorObject } from "./_util/values.ts";
import {
  allowsBatches,
  elicitationHasMode,
  LATEST_PROTOCOL_VERSION,
  perRequestVersion,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "./versions.ts";

/** What the transport learns of an error response: its code and, refusing for want of OAuth scopes, the scopes. */
function errorMeta(to: RequestId, err: ErrorResponse): SendMeta {
  return err.requiredScopes
    ? { responseTo: to, error: err.code, requiredScopes: err.requiredScopes }
    : { responseTo: to, error: err.code };
}

/** Options of a request the server sends to the client. */
export interface ClientRequestOptions {
  /** Aborts the request; the client is sent `notifications/cancelled`. */
  signal?: AbortSignal;
  /** Milliseconds to wait for the answer. Defaults to the server's `clientRequestTimeout`. */
  timeout?: number;
  /** The client request whose handler sends this one; set by {@linkcode Context}. */
  relatedTo?: RequestId;
  /** Entries added to the request's `_meta` (a task's requests carry `io.modelcontextprotocol/related-task`). */
  _meta?: Record<string, unknown>;
}

/**
 * One client connection: its negotiated protocol version, its capabilities,
 * its requests in flight. Created by {@linkcode McpServer.connect}.
 *
 * @example Pushing to every initialized client
 * ```ts
 * import { McpServer } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * for (const session of server.sessions) {
 *   if (session.ready) session.notify("notifications/message", { level: "info", data: "hello" });
 * }
 * ```
 */
export class Session {
  /** A random id for logs and bookkeeping. */
  readonly id: string = crypto.randomUUID();
  /** The server this session belongs to. */
  readonly server: McpServer;
  /**
   * The result of the transport's `authenticate` hook (or the verified
   * OAuth token): at connection, or, over HTTP, of the session's latest
   * request (a refreshed token replaces the one the session opened with).
   * A request's handlers see the one it came with, as `ctx.auth`.
   */
  get auth(): unknown {
    return this.#auth;
  }
  /** The transport's name. */
  readonly transport: string;
  /** The negotiated protocol version; empty until `initialize`. */
  protocolVersion = "";
  /** The client's `clientInfo` from `initialize`. */
  clientInfo?: Implementation;
  /** The client's capabilities from `initialize`. */
  clientCapabilities: Record<string, unknown> = {};
  /** Least severity of log messages sent to this client. */
  logLevel: LoggingLevel;
  /** URIs this client subscribed to. */
  readonly subscriptions: Set<string> = new Set();

  #auth: unknown;
  #channel: Channel;
  #core: ServerCore;
  #inflight = new Map<RequestId, Context>();
  #outbound: Outbound;
  #closed = false;
  #draining = false;
  #idleWaiters: (() => void)[] = [];
  #advertised: Record<string, unknown> = {};
  /** The request each URL elicitation started from (newest last, at most 1,024), to carry its completion. */
  #elicitedFrom = new Map<string, RequestId>();

  /** @internal Use {@linkcode McpServer.connect}. */
  constructor(core: ServerCore, channel: Channel, init: SessionInit) {
    this.#core = core;
    this.server = core.server;
    this.#channel = channel;
    this.#auth = init.auth;
    this.transport = init.transport ?? "unknown";
    this.logLevel = core.options.logLevel;
    this.#outbound = new Outbound(
      (text, meta) => this.#send(text, meta),
      (requestId, reason, relatedTo) => this.notify("notifications/cancelled", { requestId, reason }, relatedTo),
    );
  }

  /** Whether `initialize` has been answered. */
  get ready(): boolean {
    return this.protocolVersion !== "";
  }

  /** Whether the session has ended. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Requests from the client that have not been answered yet. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  /** The capabilities this server advertised in its `initialize` result; empty before. */
  get serverCapabilities(): Readonly<Record<string, unknown>> {
    return this.#advertised;
  }

  /**
   * Handles one incoming text message (a JSON-RPC message or batch), for
   * socket transports: everything it leads to, a refusal included, goes out
   * through the channel.
   */
  receive(text: string): void {
    if (this.#closed) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      const code = ErrorCode.ParseError;
      this.#send(errorFrame(null, { code, message: "Parse error: the message is not valid JSON" }), {
        refusal: true,
        error: code,
      });
      return;
    }
    const refusal = this.dispatch(value);
    if (refusal) this.#send(refusal.text, { refusal: true, error: refusal.code });
  }

  /**
   * Handles one already-parsed JSON value, for transports that parse the
   * body themselves. Returns the refusal of the message as a whole (a batch
   * the protocol version does not allow, a message with no usable id), for
   * the transport to answer on the request that carried it; everything else
   * goes out through the channel. `auth`, from a transport that
   * authenticates each request (HTTP), becomes {@linkcode Session.auth}.
   */
  dispatch(value: unknown, auth?: unknown): Refusal | undefined {
    if (this.#closed) return undefined;
    if (auth !== undefined) this.#auth = auth;
    if (Array.isArray(value)) return this.#batch(value);
    const out = this.#handle(value);
    if (out === undefined) return undefined;
    const id = typeof value === "object" && value !== null ? (value as { id?: unknown }).id : undefined;
    // Only an id the message could carry validly names a request; any other answer refuses the message.
    const to = typeof id === "string" || Number.isSafeInteger(id) ? id as RequestId : undefined;
    if (typeof out === "string") this.#send(out, to === undefined ? undefined : { responseTo: to });
    else if (out instanceof ErrorResponse) {
      if (to === undefined) return out;
      this.#send(out.text, errorMeta(to, out));
    } else {
      out.then((a) => {
        if (typeof a === "string") this.#send(a, to === undefined ? undefined : { responseTo: to });
        else if (a !== undefined) this.#send(a.text, to === undefined ? undefined : errorMeta(to, a));
        else if (to !== undefined) this.#noResponse(to);
      });
    }
    return undefined;
  }

  /** Called by the transport when the connection is gone: aborts every handler and pending client request. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#core.fanout.forget(this);
    for (const ctx of this.#inflight.values()) {
      inFlight.cancel(ctx);
      inFlight.timer(ctx, undefined);
      inFlight.abort(ctx, new McpError(ErrorCode.ConnectionClosed, "Connection closed"));
    }
    this.#inflight.clear();
    this.#wakeIdle();
    this.#outbound.rejectAll(new McpError(ErrorCode.ConnectionClosed, "Connection closed before the client answered"));
  }

  /**
   * Ends the connection from the server side. `reason` goes to the client
   * where the transport can carry it: in a WebSocket close frame (cut to 123
   * bytes), or over HTTP as the error of the requests still waiting.
   */
  close(reason = ""): void {
    if (this.#closed) return;
    try {
      this.#channel.close(reason);
    } finally {
      this.closed();
    }
  }

  /**
   * Stops taking new requests (each is answered with an error saying the
   * server is shutting down) and resolves once every request in flight has
   * been answered.
   */
  drain(): Promise<void> {
    this.#draining = true;
    this.#core.fanout.endListens(this);
    if (!this.#inflight.size) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Aborts every handler still running, e.g. at a shutdown deadline. */
  abortAll(reason: string): void {
    for (const ctx of this.#inflight.values()) inFlight.abort(ctx, new McpError(ErrorCode.ConnectionClosed, reason));
  }

  /** Sends a notification to the client; `relatedTo` names the client request it belongs to, if any. */
  notify(method: string, params?: Record<string, unknown>, relatedTo?: RequestId): void {
    this.#send(notificationFrame(method, params), relatedTo === undefined ? undefined : { relatedTo });
  }

  /** Sends `notifications/message` if `level` is at or above this session's level. */
  log(level: LoggingLevel, data: unknown, logger?: string, relatedTo?: RequestId): void {
    const rank = levelRank(level);
    if (rank < 0) throw new RangeError(`unknown log level "${level}"`);
    if (!this.ready || rank < levelRank(this.logLevel)) return;
    this.notify("notifications/message", logger === undefined ? { level, data } : { level, logger, data }, relatedTo);
  }

  /**
   * Sends a request to the client and resolves with its result. Rejects with
   * an {@linkcode McpError} on an error answer, a timeout, or a closed
   * connection.
   */
  request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: ClientRequestOptions = {},
  ): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new McpError(ErrorCode.ConnectionClosed, "Connection closed"));
    const timeout = options.timeout ?? this.#core.options.clientRequestTimeout;
    if (options._meta) {
      const meta = isRecord(params?._meta) ? params._meta : undefined;
      params = { ...params, _meta: { ...meta, ...options._meta } };
    }
    return this.#outbound.request(method, params, { signal: options.signal, relatedTo: options.relatedTo, timeout });
  }

  /** Sends `ping` to the client. */
  async ping(options?: ClientRequestOptions): Promise<void> {
    await this.request("ping", undefined, options);
  }

  /** Asks the client's model for a completion (`sampling/createMessage`). */
  async sample(params: CreateMessageParams, options?: ClientRequestOptions): Promise<CreateMessageResult> {
    this.#requireCapability("sampling", "sampling/createMessage");
    return await this.request(
      "sampling/createMessage",
      params as Record<string, unknown>,
      options,
    ) as CreateMessageResult;
  }

  /**
   * Asks the user for input through the client (`elicitation/create`, form
   * mode). `schema` is an object schema of primitive fields; accepted
   * content is validated against it.
   */
  async elicit<S extends StandardSchemaV1>(
    message: string,
    schema: S,
    options?: ClientRequestOptions,
  ): Promise<ElicitResult<InferOutput<S>>> {
    if (!supportsFormElicitation(this.clientCapabilities)) {
      throw new McpError(
        ErrorCode.InvalidRequest,
        "The client does not support form elicitation (it did not declare the 'elicitation' capability)",
      );
    }
    const params = elicitParams(message, schema, elicitationHasMode(this.protocolVersion));
    return elicitOutcome(schema, await this.request("elicitation/create", params, options));
  }

  /**
   * Asks the client to send the user to `url` (`elicitation/create`, URL
   * mode, 2025-11-25), for what must not pass through the client. Resolves
   * with the user's choice once they agreed to open it or not; what they do
   * there the server learns from its own web route, and may then tell the
   * client with {@linkcode Session.elicitationComplete}.
   */
  async elicitUrl(message: string, url: string, options?: ElicitUrlOptions): Promise<UrlElicitResult> {
    const e = urlElicitation(message, url, options?.elicitationId);
    if (!elicitationHasMode(this.protocolVersion)) {
      throw new McpError(
        ErrorCode.InvalidRequest,
        `URL elicitation needs protocol 2025-11-25 or later; this session negotiated ${
          this.protocolVersion || "none yet"
        }`,
      );
    }
    if (!supportsUrlElicitation(this.clientCapabilities)) {
      throw new McpError(
        ErrorCode.InvalidRequest,
        "The client does not support URL elicitation (it did not declare the 'elicitation.url' capability)",
      );
    }
    if (options?.relatedTo !== undefined) {
      this.#elicitedFrom.delete(e.elicitationId);
      this.#elicitedFrom.set(e.elicitationId, options.relatedTo);
      if (this.#elicitedFrom.size > 1024) this.#elicitedFrom.delete(this.#elicitedFrom.keys().next().value!);
    }
    const res = await this.request("elicitation/create", urlElicitParams(e, true), options);
    return { action: urlOutcome(res), elicitationId: e.elicitationId };
  }

  /**
   * Tells the client that the out-of-band interaction of a URL elicitation
   * has finished (`notifications/elicitation/complete`), typically from the
   * web route the user ended on. Over HTTP it goes on the stream of the
   * request that elicited it (or `relatedTo`) while that request is open,
   * else on the session's GET stream. Returns false, sending nothing, when
   * this session cannot carry it: closed, before 2025-11-25, or a client
   * without URL elicitation (under 2026-07-28 the client learns by retrying).
   *
   * @example
   * ```ts
   * import type { Session } from "./mod.ts";
   * const waiting = new Map<string, Session>(); // filled where the elicitation was started
   * function onConnected(elicitationId: string) {
   *   waiting.get(elicitationId)?.elicitationComplete(elicitationId);
   *   waiting.delete(elicitationId);
   * }
   * ```
   */
  elicitationComplete(elicitationId: string, options?: { relatedTo?: RequestId }): boolean {
    if (typeof elicitationId !== "string" || elicitationId === "") {
      throw new TypeError("elicitationComplete needs the elicitation's id, a non-empty string");
    }
    if (this.#closed || !elicitationHasMode(this.protocolVersion) || !supportsUrlElicitation(this.clientCapabilities)) {
      return false;
    }
    const relatedTo = options?.relatedTo ?? this.#elicitedFrom.get(elicitationId);
    this.#elicitedFrom.delete(elicitationId);
    this.notify("notifications/elicitation/complete", { elicitationId }, relatedTo);
    return true;
  }

  /** Asks the client for its roots (`roots/list`). */
  async listRoots(options?: ClientRequestOptions): Promise<Root[]> {
    this.#requireCapability("roots", "roots/list");
    return rootsOf<Root>(await this.request("roots/list", undefined, options));
  }

  #requireCapability(cap: string, method: string): void {
    if (!this.clientCapabilities[cap]) {
      throw new McpError(
        ErrorCode.InvalidRequest,
        `The client does not support ${method} (it did not declare the '${cap}' capability)`,
      );
    }
  }

  #send(text: string, meta?: SendMeta): void {
    if (this.#closed) return;
    try {
      this.#channel.send(text, meta);
    } catch {
      // The transport closes the session when a send fails for good.
    }
  }

  #noResponse(id: RequestId): void {
    try {
      this.#channel.noResponse?.(id);
    } catch {
      // The transport is gone; there is nobody left to tell.
    }
  }

  #wakeIdle(): void {
    if (this.#inflight.size) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #batch(items: unknown[]): Refusal | undefined {
    // Batches exist only in 2025-03-26 and 2024-11-05; initialize may not be batched.
    if (!this.ready || !allowsBatches(this.protocolVersion) || items.length === 0) {
      const why = items.length === 0
        ? "an empty batch is not a valid request"
        : this.ready
        ? `JSON-RPC batches are not supported in protocol version ${this.protocolVersion}`
        : "JSON-RPC batches are not allowed before initialize";
      return errorResponse(null, { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${why}` });
    }
    const outs = items.map((v) => {
      if (isRecord(v) && v.method === "initialize") {
        const id = v.id;
        return errorResponse(typeof id === "string" || typeof id === "number" ? id : null, {
          code: ErrorCode.InvalidRequest,
          message: "Invalid Request: initialize may not be part of a batch",
        });
      }
      return this.#handle(v);
    });
    const ids = items.map((v) => (v as { id?: unknown } | null)?.id)
      .filter((id): id is RequestId => typeof id === "string" || Number.isSafeInteger(id));
    Promise.all(outs).then((answers) => {
      const present = answers.filter((a) => a !== undefined).map((a) => typeof a === "string" ? a : a.text);
      if (present.length) this.#send(`[${present.join(",")}]`, { responseTo: ids });
      else for (const id of ids) this.#noResponse(id);
    });
    return undefined;
  }

  // The answer to one message, now or later.
  #handle(value: unknown): Answer | Promise<Answer> {
    if (isRequest(value)) return this.#request(value);
    const c = classify(value);
    switch (c.kind) {
      case "request":
        return this.#request(c.msg);
      case "notification":
        this.#notification(c.msg);
        return undefined;
      case "response":
        this.#outbound.settle(c.id, c.result, c.error);
        return undefined;
      case "invalid":
        return errorResponse(c.id, { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${c.reason}` });
      case "ignored":
        return undefined;
    }
  }

  #notification(msg: JsonRpcNotification): void {
    const p = msg.params ?? {};
    switch (msg.method) {
      case "notifications/cancelled": {
        const id = p.requestId as RequestId;
        if (this.#core.fanout.endListen(this, id)) return; // a listen ends with its result, not in silence
        const ctx = this.#inflight.get(id);
        if (!ctx) return;
        inFlight.cancel(ctx);
        inFlight.abort(
          ctx,
          new DOMException(typeof p.reason === "string" ? p.reason : "Cancelled by the client", "AbortError"),
        );
        return;
      }
      case "notifications/roots/list_changed":
        this.#core.options.onRootsListChanged?.(this);
        return;
    }
  }

  #request(msg: JsonRpcRequest): string | ErrorResponse | Promise<Answer> {
    const { id, method } = msg;
    if (method === "ping") return resultFrame(id, {});
    if (method === "initialize") return this.#initialize(id, msg.params ?? {});
    // A request naming its version in _meta is 2026-07-28, session or not.
    const requested = perRequestVersion(msg);
    const perRequest = requested !== undefined || method === "server/discover";
    if (perRequest) {
      const unsupported = unsupportedVersion(id, requested);
      if (unsupported) return unsupported;
    } else if (!this.ready) {
      return errorResponse(id, {
        code: ErrorCode.InvalidRequest,
        message: `Invalid Request: send initialize before ${method}`,
      });
    }
    const refused = this.#admit(id);
    if (refused) return refused;
    const route = perRequest ? PER_REQUEST_ROUTES[method] : ROUTES[method];
    if (!route) return errorResponse(id, { code: ErrorCode.MethodNotFound, message: `Method not found: ${method}` });
    const params = msg.params ?? {};
    const ctx = perRequest ? new PerRequestContext(this, msg) : new Context(this, msg);
    let out: unknown;
    try {
      out = ctx instanceof PerRequestContext
        ? runPerRequest(route, this.#core, params, ctx)
        : route(this.#core, params, ctx);
    } catch (err) {
      return errorResponse(id, toErrorObject(err));
    }
    // Synchronous handlers are answered at once: no promise, no bookkeeping.
    if (!isThenable(out)) return responseFrame(id, out);
    return this.#settle(msg, ctx, out);
  }

  // The checks a request passes before its handler runs: shutdown, duplicate id, too many in flight.
  #admit(id: RequestId): ErrorResponse | undefined {
    if (this.#draining) {
      return errorResponse(id, {
        code: ErrorCode.ConnectionClosed,
        message: "The server is shutting down and takes no new requests",
      });
    }
    if (this.#inflight.has(id)) {
      return errorResponse(id, {
        code: ErrorCode.InvalidRequest,
        message: `Invalid Request: a request with id ${JSON.stringify(id)} is already in flight`,
      });
    }
    const max = this.#core.options.maxInFlight;
    if (this.#inflight.size >= max) {
      return errorResponse(id, {
        code: ErrorCode.ServerBusy,
        message:
          `Too many requests in flight on this connection (at most ${max}); wait for answers before sending more`,
      });
    }
    return undefined;
  }

  // An asynchronous handler: tracked in flight until it settles, times out, is cancelled or its connection closes.
  #settle(msg: JsonRpcRequest, ctx: Context, out: PromiseLike<unknown>): Promise<Answer> {
    const { id, method } = msg;
    this.#inflight.set(id, ctx);
    const timeout = this.#core.options.requestTimeout;
    return new Promise<Answer>((resolve) => {
      const finish = (answer: Answer) => {
        if (this.#inflight.get(id) !== ctx) return resolve(undefined); // closed, or timed out already
        this.#inflight.delete(id);
        inFlight.timer(ctx, undefined);
        resolve(inFlight.cancelled(ctx) ? undefined : answer);
        this.#wakeIdle();
      };
      // A listen lasts as long as the client wants; tasks/result as long as its task.
      if (timeout > 0 && method !== "subscriptions/listen" && method !== "tasks/result") {
        inFlight.timer(
          ctx,
          later(() => {
            finish(errorResponse(id, {
              code: ErrorCode.RequestTimeout,
              message: `Request timed out: ${method} ran longer than ${timeout} ms`,
            }));
            inFlight.abort(ctx, new McpError(ErrorCode.RequestTimeout, `Request timed out after ${timeout} ms`));
          }, timeout),
        );
      }
      out.then(
        (result) => finish(responseFrame(id, result)),
        (err) => finish(errorResponse(id, toErrorObject(err))),
      );
    });
  }

  #initialize(id: RequestId, params: Record<string, unknown>): string | ErrorResponse {
    if (this.ready) {
      return errorResponse(id, {
        code: ErrorCode.InvalidRequest,
        message: "Invalid Request: the session is already initialized",
      });
    }
    const requested = params.protocolVersion;
    if (typeof requested !== "string") {
      return errorResponse(id, {
        code: ErrorCode.InvalidParams,
        message: "Invalid params: initialize needs a protocolVersion string",
      });
    }
    this.protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
    this.clientCapabilities = isRecord(params.capabilities) ? params.capabilities : {};
    const info = params.clientInfo;
    if (typeof info === "object" && info !== null) this.clientInfo = info as Implementation;
    this.#advertised = this.server.capabilities;
    const result: Record<string, unknown> = {
      protocolVersion: this.protocolVersion,
      capabilities: this.#advertised,
      serverInfo: this.server.serverInfo,
    };
    if (this.#core.options.instructions) result.instructions = this.#core.options.instructions;
    return resultFrame(id, result);
  }
}
