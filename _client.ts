// The connection behind connect(): the WebSocket, the initialize handshake,
// reconnection, server → client requests and notifications, and the
// McpClient methods. Requests in flight live in _client_outbound.ts.

import {
  classify,
  ErrorCode,
  errorFrame,
  type JsonRpcErrorObject,
  type JsonRpcNotification,
  type JsonRpcRequest,
  McpError,
  notificationFrame,
  type RequestId,
  resultFrame,
} from "./jsonrpc.ts";
import type {
  CallToolResult,
  CreateMessageParams,
  GetPromptResult,
  Implementation,
  LoggingLevel,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from "./types.ts";
import type {
  CloseInfo,
  CompleteRef,
  Completion,
  ConnectOptions,
  ElicitParams,
  HandlerContext,
  ListParams,
  ListPromptsResult,
  ListResourcesResult,
  ListResourceTemplatesResult,
  ListToolsResult,
  McpClient,
  NotificationListener,
  Progress,
  ReconnectOptions,
  RequestOptions,
  ServerCapabilities,
} from "./client.ts";
import { closedError, McpClientError } from "./_client_error.ts";
import { abortReason, MAX_TIMER, Outbound } from "./_client_outbound.ts";

/** The protocol version the client asks for, unless told otherwise. */
export const CLIENT_PROTOCOL_VERSION = "2025-11-25";

/** Protocol versions the client accepts from a server, newest first. */
export const CLIENT_PROTOCOL_VERSIONS: readonly string[] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

const DEFAULT_TIMEOUT = 60_000;
const DEFAULT_CLIENT_INFO: Implementation = { name: "mcp-ws-client", version: "0.1.0" };
const OPEN = 1;

interface Subscription {
  listeners: Set<(params: { uri: string; [key: string]: unknown }) => void>;
}

type Sleep = { timer: ReturnType<typeof setTimeout>; wake: () => void };

function toErrorObject(err: unknown): JsonRpcErrorObject {
  if (err instanceof McpError) return err.toJSON();
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === "number" && Number.isInteger(e.code) && typeof e.message === "string") {
    return { code: e.code, message: e.message };
  }
  return { code: ErrorCode.InternalError, message: err instanceof Error ? err.message : String(err) };
}

function normalizeUrl(url: string | URL): URL {
  const u = new URL(url);
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  if (u.protocol !== "ws:" && u.protocol !== "wss:") {
    throw new TypeError(`An MCP WebSocket URL must start with ws:// or wss:// (got ${u.protocol}//)`);
  }
  return u;
}

/** The {@linkcode McpClient} that `connect()` returns; {@linkcode Client.start} opens it. */
export class Client implements McpClient {
  readonly closed: Promise<CloseInfo>;
  #url: URL;
  #opts: ConnectOptions;
  #timeout: number;
  #reconnect?: Required<ReconnectOptions>;
  #headers?: Record<string, string>;
  #ws?: WebSocket;
  #state: "connecting" | "open" | "reconnecting" | "closed" = "connecting";
  #out: Outbound;
  #incoming = new Map<RequestId, AbortController>();
  #listeners = new Map<string, Set<NotificationListener>>();
  #subs = new Map<string, Subscription>();
  #logLevel?: LoggingLevel;
  #sleep?: Sleep;
  #resolveClosed!: (info: CloseInfo) => void;
  #init: {
    serverInfo: Implementation;
    capabilities: ServerCapabilities;
    protocolVersion: string;
    instructions?: string;
  } = { serverInfo: { name: "", version: "" }, capabilities: {}, protocolVersion: "" };

  constructor(url: string | URL, opts: ConnectOptions) {
    this.#url = normalizeUrl(url);
    this.#opts = opts;
    this.#timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    this.#out = new Outbound(() => this.#ws, () => this.#state === "open", this.#timeout);
    const r = opts.reconnect;
    if (r) {
      const o = r === true ? {} : r;
      this.#reconnect = { retries: o.retries ?? 10, minDelay: o.minDelay ?? 250, maxDelay: o.maxDelay ?? 10_000 };
    }
    if (opts.headers !== undefined) {
      const g = globalThis as Record<string, unknown>;
      if (!("Deno" in g) && !("Bun" in g)) {
        throw new TypeError(
          "This runtime's WebSocket cannot send HTTP headers (browsers cannot); pass credentials another way",
        );
      }
      this.#headers = {};
      new Headers(opts.headers).forEach((v, k) => (this.#headers![k] = v));
    }
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  get serverInfo(): Implementation {
    return this.#init.serverInfo;
  }
  get serverCapabilities(): ServerCapabilities {
    return this.#init.capabilities;
  }
  get protocolVersion(): string {
    return this.#init.protocolVersion;
  }
  get instructions(): string | undefined {
    return this.#init.instructions;
  }
  get state(): "open" | "reconnecting" | "closed" {
    return this.#state === "connecting" ? "reconnecting" : this.#state;
  }

  // -- connection ---------------------------------------------------------

  async start(): Promise<void> {
    try {
      await this.#open(this.#opts.signal);
    } catch (e) {
      this.#finish({ code: 1006, reason: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  #socket(): WebSocket {
    if (this.#headers) {
      // Deno and Bun take `{ protocols, headers }` as the second argument.
      const Ctor = WebSocket as unknown as new (url: URL, init: unknown) => WebSocket;
      return new Ctor(this.#url, { protocols: ["mcp"], headers: this.#headers });
    }
    return new WebSocket(this.#url, "mcp");
  }

  // Opens a socket and performs the handshake; on success the client is "open".
  async #open(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortReason(signal);
    const ws = this.#socket();
    this.#ws = ws;
    const timeout = this.#timeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const give = new Promise<never>((_, reject) => {
      if (timeout > 0 && Number.isFinite(timeout)) {
        timer = setTimeout(() => {
          reject(
            new McpClientError(ErrorCode.RequestTimeout, `Connecting to ${this.#url} timed out after ${timeout} ms`),
          );
        }, Math.min(timeout, MAX_TIMER));
      }
      if (signal) {
        onAbort = () => reject(abortReason(signal));
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
    try {
      await Promise.race([this.#opened(ws), give]);
      this.#attach(ws);
      const res = await Promise.race([
        this.#request(
          "initialize",
          {
            protocolVersion: this.#opts.protocolVersion ?? CLIENT_PROTOCOL_VERSION,
            capabilities: this.#capabilities(),
            clientInfo: this.#opts.clientInfo ?? DEFAULT_CLIENT_INFO,
          },
          { timeout: 0 },
          true,
        ),
        give,
      ]);
      if (this.#isClosed()) {
        throw new McpClientError(ErrorCode.ConnectionClosed, "The client was closed while connecting");
      }
      const version = res.protocolVersion;
      if (typeof version !== "string" || !CLIENT_PROTOCOL_VERSIONS.includes(version)) {
        throw new McpClientError(
          ErrorCode.ConnectionClosed,
          `The server answered initialize with protocol version ${
            JSON.stringify(version)
          }, which this client does not speak (it speaks ${CLIENT_PROTOCOL_VERSIONS.join(", ")})`,
          undefined,
          "initialize",
        );
      }
      const caps = res.capabilities;
      this.#init = {
        serverInfo: (typeof res.serverInfo === "object" && res.serverInfo !== null
          ? res.serverInfo
          : { name: "", version: "" }) as Implementation,
        capabilities: (typeof caps === "object" && caps !== null ? caps : {}) as ServerCapabilities,
        protocolVersion: version,
        instructions: typeof res.instructions === "string" ? res.instructions : undefined,
      };
      ws.send(notificationFrame("notifications/initialized"));
      this.#state = "open";
      // Requests made while reconnecting go out now.
      this.#out.flush(ws);
    } catch (e) {
      if (this.#ws === ws) this.#ws = undefined;
      this.#dropSent({ code: 1006, reason: "handshake failed" });
      try {
        ws.close(1000, "handshake failed");
      } catch { /* not open */ }
      throw e;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal!.removeEventListener("abort", onAbort);
    }
  }

  #opened(ws: WebSocket): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (detail: string) => {
        cleanup();
        reject(new McpClientError(ErrorCode.ConnectionClosed, `Could not connect to ${this.#url}: ${detail}`));
      };
      const onOpen = () => (cleanup(), resolve());
      const onError = (e: Event) => fail((e as ErrorEvent).message || "the WebSocket connection failed");
      const onClose = (e: CloseEvent) =>
        fail(`the connection closed (code ${e.code}${e.reason ? `: ${e.reason}` : ""})`);
      const cleanup = () => {
        ws.removeEventListener("open", onOpen);
        ws.removeEventListener("error", onError);
        ws.removeEventListener("close", onClose);
      };
      ws.addEventListener("open", onOpen);
      ws.addEventListener("error", onError);
      ws.addEventListener("close", onClose);
    });
  }

  #attach(ws: WebSocket): void {
    ws.addEventListener("message", (e) => {
      if (this.#ws === ws) this.#receive(ws, (e as MessageEvent).data);
    });
    ws.addEventListener("close", (e) => this.#lost(ws, { code: e.code, reason: e.reason }));
  }

  #capabilities(): Record<string, unknown> {
    const caps: Record<string, unknown> = { ...this.#opts.capabilities };
    if (this.#opts.onSample) caps.sampling ??= {};
    if (this.#opts.onElicit) caps.elicitation ??= { form: {} };
    if (this.#opts.onListRoots) caps.roots ??= { listChanged: true };
    return caps;
  }

  // Rejects requests that went out on a connection that is gone.
  #dropSent(info: CloseInfo): void {
    this.#out.dropSent(info);
    for (const c of this.#incoming.values()) c.abort(closedError(info));
    this.#incoming.clear();
  }

  #lost(ws: WebSocket, info: CloseInfo): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    this.#dropSent(info);
    if (this.#state !== "open") return; // a handshake in progress fails on its own
    try {
      this.#opts.onDisconnect?.(info);
    } catch (e) {
      this.#report(e);
    }
    if (this.#reconnect && this.#reconnect.retries > 0) void this.#reconnectLoop(info);
    else this.#finish(info);
  }

  async #reconnectLoop(info: CloseInfo): Promise<void> {
    this.#state = "reconnecting";
    const { retries, minDelay, maxDelay } = this.#reconnect!;
    let last: unknown;
    for (let attempt = 0; attempt < retries; attempt++) {
      const base = Math.min(maxDelay, minDelay * 2 ** attempt);
      await new Promise<void>((wake) => {
        // Jitter spreads the clients of a restarted server over time.
        this.#sleep = { timer: setTimeout(wake, base * (0.5 + Math.random() / 2)), wake };
      });
      this.#sleep = undefined;
      if (this.#isClosed()) return;
      try {
        await this.#open();
      } catch (e) {
        last = e;
        if (this.#isClosed()) return;
        this.#state = "reconnecting";
        continue;
      }
      await this.#restore();
      try {
        this.#opts.onReconnect?.();
      } catch (e) {
        this.#report(e);
      }
      return;
    }
    const why = last instanceof Error ? last.message : String(last);
    this.#finish({
      code: info.code,
      reason: `${info.reason || "connection lost"}; gave up after ${retries} attempts to reconnect: ${why}`,
    });
  }

  #report(error: unknown): void {
    try {
      (this.#opts.onError ?? console.error)(error);
    } catch { /* nowhere left to report */ }
  }

  // A method, so TypeScript does not narrow #state across awaits.
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  async #restore(): Promise<void> {
    const work: Promise<unknown>[] = [...this.#subs.keys()].map((uri) =>
      this.request("resources/subscribe", { uri }).catch((e) => this.#report(e))
    );
    if (this.#logLevel) {
      work.push(this.request("logging/setLevel", { level: this.#logLevel }).catch((e) => this.#report(e)));
    }
    await Promise.all(work);
  }

  #finish(info: CloseInfo): void {
    this.#state = "closed";
    if (this.#sleep) (clearTimeout(this.#sleep.timer), this.#sleep.wake());
    this.#out.rejectAll(info);
    for (const c of this.#incoming.values()) c.abort(closedError(info));
    this.#incoming.clear();
    this.#resolveClosed(info);
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return void (await this.closed);
    const ws = this.#ws;
    this.#ws = undefined;
    const info = { code: 1000, reason: "closed by the client" };
    this.#finish(info);
    if (ws && ws.readyState <= OPEN) {
      // Wait for the close handshake (bounded) so no socket outlives close().
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 2000);
        function done() {
          clearTimeout(t);
          resolve();
        }
        ws.addEventListener("close", done, { once: true });
        try {
          ws.close(1000, "client closed");
        } catch {
          done();
        }
      });
    }
  }

  // -- messages -------------------------------------------------------------

  #receive(ws: WebSocket, data: unknown): void {
    if (typeof data !== "string") return; // MCP sends text frames only
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      return;
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      const c = classify(v);
      if (c.kind === "response") this.#out.answer(c);
      else if (c.kind === "notification") this.#notification(c.msg);
      else if (c.kind === "request") this.#serverRequest(ws, c.msg);
    }
  }

  #notification(msg: JsonRpcNotification): void {
    const p = msg.params ?? {};
    if (msg.method === "notifications/progress") {
      const cb = this.#out.progressListener(p.progressToken as RequestId);
      if (cb && typeof p.progress === "number") {
        const progress: Progress = { progress: p.progress };
        if (typeof p.total === "number") progress.total = p.total;
        if (typeof p.message === "string") progress.message = p.message;
        try {
          cb(progress);
        } catch (e) {
          this.#report(e);
        }
      }
    } else if (msg.method === "notifications/cancelled") {
      const c = this.#incoming.get(p.requestId as RequestId);
      if (c) {
        this.#incoming.delete(p.requestId as RequestId);
        c.abort(new DOMException(typeof p.reason === "string" ? p.reason : "Cancelled by the server", "AbortError"));
      }
    } else if (msg.method === "notifications/resources/updated" && typeof p.uri === "string") {
      for (const l of [...this.#subs.get(p.uri)?.listeners ?? []]) {
        try {
          l(p as { uri: string });
        } catch (e) {
          this.#report(e);
        }
      }
    }
    for (const l of [...this.#listeners.get(msg.method) ?? []]) {
      try {
        l(p, msg);
      } catch (e) {
        this.#report(e);
      }
    }
  }

  #serverRequest(ws: WebSocket, msg: JsonRpcRequest): void {
    const { id, method } = msg;
    const params = msg.params ?? {};
    const send = (frame: string) => {
      if (ws.readyState === OPEN) ws.send(frame);
    };
    if (method === "ping") return send(resultFrame(id, {}));
    const o = this.#opts;
    let run: ((ctx: HandlerContext) => unknown) | undefined;
    if (method === "sampling/createMessage" && o.onSample) {
      const f = o.onSample;
      run = (ctx) => f(params as CreateMessageParams, ctx);
    } else if (method === "elicitation/create" && o.onElicit) {
      const f = o.onElicit;
      run = (ctx) => f(params as ElicitParams, ctx);
    } else if (method === "roots/list" && o.onListRoots) {
      const f = o.onListRoots;
      run = async (ctx) => ({ roots: await f(ctx) });
    } else if (o.onRequest) {
      const f = o.onRequest;
      run = (ctx) => f(method, params, ctx);
    }
    if (!run) {
      return send(errorFrame(id, { code: ErrorCode.MethodNotFound, message: `Method not found: ${method}` }));
    }
    const controller = new AbortController();
    this.#incoming.set(id, controller);
    const h = run;
    Promise.resolve()
      .then(() => h({ signal: controller.signal, requestId: id }))
      .then(
        (result) => resultFrame(id, result ?? {}),
        (err) => errorFrame(id, toErrorObject(err)),
      )
      .then((frame) => {
        // A cancelled request gets no answer.
        if (this.#incoming.get(id) !== controller) return;
        this.#incoming.delete(id);
        send(frame);
      });
  }

  // -- requests -------------------------------------------------------------

  request(
    method: string,
    params?: Record<string, unknown>,
    options: RequestOptions = {},
  ): Promise<Record<string, unknown>> {
    return this.#request(method, params, options, false);
  }

  #request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions,
    handshake: boolean,
  ): Promise<Record<string, unknown>> {
    if (this.#state === "closed") {
      return Promise.reject(new McpClientError(ErrorCode.ConnectionClosed, "The client is closed", undefined, method));
    }
    return this.#out.request(method, params, options, handshake);
  }

  notify(method: string, params?: Record<string, unknown>): void {
    if (this.#state === "open" && this.#ws?.readyState === OPEN) this.#ws.send(notificationFrame(method, params));
  }

  notifyRootsListChanged(): void {
    this.notify("notifications/roots/list_changed");
  }

  on(method: string, listener: NotificationListener): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, set = new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size && this.#listeners.get(method) === set) this.#listeners.delete(method);
    };
  }

  async #list<T>(method: string, field: string, params: ListParams | undefined, options?: RequestOptions): Promise<T> {
    const res = await this.request(
      method,
      params?.cursor === undefined ? undefined : { cursor: params.cursor },
      options,
    );
    if (!Array.isArray(res[field])) {
      throw new McpClientError(
        ErrorCode.InternalError,
        `The server's ${method} result has no ${field} array`,
        res,
        method,
      );
    }
    return res as T;
  }

  async #all<T>(method: string, field: string, options?: RequestOptions): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await this.#list<Record<string, unknown>>(method, field, { cursor }, options);
      items.push(...page[field] as T[]);
      const next = page.nextCursor;
      cursor = typeof next === "string" ? next : undefined;
      if (cursor !== undefined) {
        if (seen.has(cursor)) {
          throw new McpClientError(
            ErrorCode.InternalError,
            `The server sent the ${method} cursor ${JSON.stringify(cursor)} twice; stopping instead of looping`,
            undefined,
            method,
          );
        }
        seen.add(cursor);
      }
    } while (cursor !== undefined);
    return items;
  }

  listTools(params?: ListParams, options?: RequestOptions): Promise<ListToolsResult> {
    return this.#list("tools/list", "tools", params, options);
  }
  listAllTools(options?: RequestOptions): Promise<Tool[]> {
    return this.#all("tools/list", "tools", options);
  }
  async callTool(name: string, args: Record<string, unknown> = {}, options?: RequestOptions): Promise<CallToolResult> {
    const res = await this.request("tools/call", { name, arguments: args }, options);
    if (!Array.isArray(res.content)) {
      throw new McpClientError(
        ErrorCode.InternalError,
        "The server's tools/call result has no content array",
        res,
        "tools/call",
      );
    }
    return res as unknown as CallToolResult;
  }
  listResources(params?: ListParams, options?: RequestOptions): Promise<ListResourcesResult> {
    return this.#list("resources/list", "resources", params, options);
  }
  listAllResources(options?: RequestOptions): Promise<Resource[]> {
    return this.#all("resources/list", "resources", options);
  }
  listResourceTemplates(params?: ListParams, options?: RequestOptions): Promise<ListResourceTemplatesResult> {
    return this.#list("resources/templates/list", "resourceTemplates", params, options);
  }
  listAllResourceTemplates(options?: RequestOptions): Promise<ResourceTemplate[]> {
    return this.#all("resources/templates/list", "resourceTemplates", options);
  }
  async readResource(uri: string, options?: RequestOptions): Promise<ReadResourceResult> {
    return await this.request("resources/read", { uri }, options) as unknown as ReadResourceResult;
  }

  async subscribe(
    uri: string,
    onUpdate: (params: { uri: string; [key: string]: unknown }) => void,
    options?: RequestOptions,
  ): Promise<() => Promise<void>> {
    let sub = this.#subs.get(uri);
    if (!sub) {
      sub = { listeners: new Set([onUpdate]) };
      this.#subs.set(uri, sub);
      try {
        await this.request("resources/subscribe", { uri }, options);
      } catch (e) {
        sub.listeners.delete(onUpdate);
        if (!sub.listeners.size && this.#subs.get(uri) === sub) this.#subs.delete(uri);
        throw e;
      }
    } else sub.listeners.add(onUpdate);
    const s = sub;
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      s.listeners.delete(onUpdate);
      if (s.listeners.size || this.#subs.get(uri) !== s) return;
      this.#subs.delete(uri);
      if (this.#state !== "closed") await this.request("resources/unsubscribe", { uri });
    };
  }

  listPrompts(params?: ListParams, options?: RequestOptions): Promise<ListPromptsResult> {
    return this.#list("prompts/list", "prompts", params, options);
  }
  listAllPrompts(options?: RequestOptions): Promise<Prompt[]> {
    return this.#all("prompts/list", "prompts", options);
  }
  async getPrompt(name: string, args?: Record<string, string>, options?: RequestOptions): Promise<GetPromptResult> {
    const params: Record<string, unknown> = args === undefined ? { name } : { name, arguments: args };
    return await this.request("prompts/get", params, options) as unknown as GetPromptResult;
  }
  async complete(
    ref: CompleteRef,
    argument: { name: string; value: string },
    context?: { arguments?: Record<string, string> },
    options?: RequestOptions,
  ): Promise<Completion> {
    const params: Record<string, unknown> = context === undefined ? { ref, argument } : { ref, argument, context };
    const res = await this.request("completion/complete", params, options);
    const c = res.completion as Completion | undefined;
    if (typeof c !== "object" || c === null || !Array.isArray(c.values)) {
      throw new McpClientError(
        ErrorCode.InternalError,
        "The server's completion/complete result has no completion.values",
        res,
        "completion/complete",
      );
    }
    return c;
  }
  async setLogLevel(level: LoggingLevel, options?: RequestOptions): Promise<void> {
    await this.request("logging/setLevel", { level }, options);
    this.#logLevel = level;
  }
  async ping(options?: RequestOptions): Promise<void> {
    await this.request("ping", undefined, options);
  }
}
