/**
 * An MCP client over WebSocket for Deno, Bun and browsers.
 *
 * It speaks protocol 2025-11-25 (and the three versions before it) to any
 * MCP server that accepts WebSocket connections with the `mcp` subprotocol,
 * such as one served by this library's `serve()`. It uses only what
 * browsers, Deno and Bun share (`WebSocket`, `AbortController`,
 * `setTimeout`): no `node:*` modules, no runtime APIs.
 *
 * @example
 * ```ts
 * import { connect } from "./client.ts";
 *
 * const client = await connect("ws://127.0.0.1:8080/mcp");
 * console.log(client.serverInfo.name, (await client.listAllTools()).map((t) => t.name));
 * const result = await client.callTool("add", { a: 1, b: 2 });
 * console.log(result.content);
 * await client.close();
 * ```
 *
 * @module
 */

import {
  classify,
  ErrorCode,
  errorFrame,
  type JsonRpcErrorObject,
  type JsonRpcNotification,
  type JsonRpcRequest,
  McpError,
  notificationFrame,
  requestFrame,
  type RequestId,
  resultFrame,
} from "./jsonrpc.ts";
import type {
  CallToolResult,
  CreateMessageParams,
  CreateMessageResult,
  GetPromptResult,
  Implementation,
  LoggingLevel,
  Meta,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Root,
  Tool,
} from "./types.ts";

export type * from "./types.ts";
export { ErrorCode, type JsonRpcErrorObject, McpError, type RequestId } from "./jsonrpc.ts";

/** The protocol version the client asks for, unless told otherwise. */
export const CLIENT_PROTOCOL_VERSION = "2025-11-25";

/** Protocol versions the client accepts from a server, newest first. */
export const CLIENT_PROTOCOL_VERSIONS: readonly string[] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

const DEFAULT_TIMEOUT = 60_000;
const DEFAULT_CLIENT_INFO: Implementation = { name: "mcp-ws-client", version: "0.1.0" };
const OPEN = 1;

// ---------------------------------------------------------------------------
// Public types

/**
 * A JSON-RPC error answer from the server, or a failure of the client
 * itself: a timeout ({@linkcode ErrorCode.RequestTimeout}, -32001) or a lost
 * connection ({@linkcode ErrorCode.ConnectionClosed}, -32000).
 *
 * @example
 * ```ts
 * import { connect, McpClientError } from "./client.ts";
 * const client = await connect("ws://127.0.0.1:8080/mcp");
 * try {
 *   await client.readResource("nope://x");
 * } catch (e) {
 *   if (e instanceof McpClientError) console.log(e.code, e.message); // -32002 Resource not found: nope://x
 * }
 * await client.close();
 * ```
 */
export class McpClientError extends McpError {
  /** The method of the request that failed, when there was one. */
  readonly method?: string;

  /** Creates an error with a JSON-RPC `code`, a `message`, optional `data` and the failed `method`. */
  constructor(code: number, message: string, data?: unknown, method?: string) {
    super(code, message, data);
    this.name = "McpClientError";
    this.method = method;
  }
}

/** Capabilities the server announced in its `initialize` result. */
export interface ServerCapabilities {
  /** The server offers tools. */
  tools?: { listChanged?: boolean };
  /** The server offers resources. */
  resources?: { subscribe?: boolean; listChanged?: boolean };
  /** The server offers prompts. */
  prompts?: { listChanged?: boolean };
  /** The server accepts `logging/setLevel` and sends `notifications/message`. */
  logging?: Record<string, unknown>;
  /** The server answers `completion/complete`. */
  completions?: Record<string, unknown>;
  /** Non-standard capabilities. */
  experimental?: Record<string, unknown>;
  /** Anything else the server announced. */
  [key: string]: unknown;
}

/** A progress report of a long request (`notifications/progress`). */
export interface Progress {
  /** Progress so far; increases with every report. */
  progress: number;
  /** The total, when known. */
  total?: number;
  /** A human-readable message. */
  message?: string;
}

/** Options of one request. */
export interface RequestOptions {
  /** Aborts the request: the server is sent `notifications/cancelled` and the call rejects with the signal's reason (an `AbortError` by default). */
  signal?: AbortSignal;
  /** Milliseconds to wait for the answer; then the request is cancelled and rejects with code -32001. 0 waits forever. Defaults to {@linkcode ConnectOptions.timeout}. */
  timeout?: number;
  /** Receives `notifications/progress` for this request; setting it sends `_meta.progressToken`. */
  onProgress?: (progress: Progress) => void;
  /** Extra `_meta` for the request. */
  meta?: Meta;
}

/** A page of a list method's result. */
export interface Page {
  /** Pass this as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
  /** Metadata. */
  _meta?: Meta;
}

/** One page of `tools/list`. */
export interface ListToolsResult extends Page {
  /** The tools on this page. */
  tools: Tool[];
}

/** One page of `resources/list`. */
export interface ListResourcesResult extends Page {
  /** The resources on this page. */
  resources: Resource[];
}

/** One page of `resources/templates/list`. */
export interface ListResourceTemplatesResult extends Page {
  /** The templates on this page. */
  resourceTemplates: ResourceTemplate[];
}

/** One page of `prompts/list`. */
export interface ListPromptsResult extends Page {
  /** The prompts on this page. */
  prompts: Prompt[];
}

/** Which page of a list to get. */
export interface ListParams {
  /** The `nextCursor` of the previous page; omit for the first page. */
  cursor?: string;
}

/** What `completion/complete` completes: a prompt's argument or a resource template's variable. */
export type CompleteRef = { type: "ref/prompt"; name: string } | { type: "ref/resource"; uri: string };

/** The completion candidates from `completion/complete`. */
export interface Completion {
  /** Candidate values, at most 100. */
  values: string[];
  /** How many candidates there are in all. */
  total?: number;
  /** Whether there are more than `values` holds. */
  hasMore?: boolean;
}

/** Parameters of `elicitation/create`. */
export interface ElicitParams {
  /** `"form"` (the default when absent) or `"url"`. */
  mode?: "form" | "url";
  /** What to ask the user. */
  message: string;
  /** Form mode: a flat object JSON Schema of the wanted fields. */
  requestedSchema?: Record<string, unknown>;
  /** URL mode: the elicitation's id. */
  elicitationId?: string;
  /** URL mode: the page to open. */
  url?: string;
  /** Further fields. */
  [key: string]: unknown;
}

/** The user's answer to `elicitation/create`. */
export interface ElicitAnswer {
  /** Whether the user accepted, declined or dismissed the request. */
  action: "accept" | "decline" | "cancel";
  /** The form's values, with `accept` in form mode. */
  content?: Record<string, string | number | boolean | string[]>;
  /** Further fields. */
  [key: string]: unknown;
}

/** What a handler of a server → client request gets besides the parameters. */
export interface HandlerContext {
  /** Aborted when the server cancels the request or the connection closes. */
  signal: AbortSignal;
  /** The request's id. */
  requestId: RequestId;
}

/** When and how to reconnect after the connection is lost. */
export interface ReconnectOptions {
  /** Attempts after each loss before giving up. Default 10. */
  retries?: number;
  /** Milliseconds before the first attempt; it doubles with each failure. Default 250. */
  minDelay?: number;
  /** Upper bound of the delay between attempts, in milliseconds. Default 10,000. */
  maxDelay?: number;
}

/** Why a connection closed. */
export interface CloseInfo {
  /** The WebSocket close code (1006 or 0 when the connection dropped without one). */
  code: number;
  /** The close reason. */
  reason: string;
}

/** Options of {@linkcode connect}. */
export interface ConnectOptions {
  /** Who the client is, sent as `clientInfo`. Default `{ name: "mcp-ws-client", version: "0.1.0" }`. */
  clientInfo?: Implementation;
  /** Capabilities to declare besides those implied by the handlers below. */
  capabilities?: Record<string, unknown>;
  /** The protocol version to ask for. Default `"2025-11-25"`. */
  protocolVersion?: string;
  /** Default time limit of every request, in milliseconds (also of connecting). 0 waits forever. Default 60,000. */
  timeout?: number;
  /**
   * HTTP headers of the WebSocket handshake, e.g. `Authorization`. Deno and
   * Bun send them; browsers cannot, so there this option throws a
   * `TypeError` (pass credentials in the URL or a cookie instead).
   */
  headers?: HeadersInit;
  /** Aborts connecting. */
  signal?: AbortSignal;
  /** Answers `sampling/createMessage`; giving it declares the `sampling` capability. */
  onSample?: (params: CreateMessageParams, ctx: HandlerContext) => CreateMessageResult | Promise<CreateMessageResult>;
  /** Answers `elicitation/create`; giving it declares the `elicitation` capability (form mode). */
  onElicit?: (params: ElicitParams, ctx: HandlerContext) => ElicitAnswer | Promise<ElicitAnswer>;
  /** Answers `roots/list`; giving it declares the `roots` capability. */
  onListRoots?: (ctx: HandlerContext) => Root[] | Promise<Root[]>;
  /**
   * Answers any other request from the server (its result, or a thrown
   * error); declares no capability. Default: `-32601` Method not found.
   */
  onRequest?: (method: string, params: Record<string, unknown>, ctx: HandlerContext) => unknown;
  /**
   * Reconnects when the connection is lost (not after {@linkcode McpClient.close}),
   * with exponential backoff: initializes again, subscribes again and
   * restores the log level. Requests in flight at the loss reject; requests
   * made while reconnecting wait for the new connection. `true` uses the
   * defaults. Default: no reconnection.
   */
  reconnect?: boolean | ReconnectOptions;
  /** Called every time the connection is lost, before any reconnection. */
  onDisconnect?: (info: CloseInfo) => void;
  /** Called after a successful reconnection, once subscriptions are restored. */
  onReconnect?: () => void;
  /**
   * Receives errors no caller can catch: a listener or callback that threw,
   * a subscription or log level that could not be restored after
   * reconnecting. Default: `console.error`.
   */
  onError?: (error: unknown) => void;
}

// setTimeout fires at once beyond 2^31 - 1 ms; a longer limit is as good as none.
const MAX_TIMER = 2_147_483_647;

/** Receives the params of a notification (`{}` when it had none), and the whole message. */
export type NotificationListener = (params: Record<string, unknown>, message: JsonRpcNotification) => void;

/**
 * A connected MCP client, from {@linkcode connect}. Every request method
 * takes optional {@linkcode RequestOptions} last (signal, timeout,
 * progress).
 */
export interface McpClient {
  /** The server's `serverInfo`. */
  readonly serverInfo: Implementation;
  /** The server's capabilities. */
  readonly serverCapabilities: ServerCapabilities;
  /** The negotiated protocol version. */
  readonly protocolVersion: string;
  /** The server's usage instructions, if it sent any. */
  readonly instructions: string | undefined;
  /** `"open"`, `"reconnecting"` or `"closed"`. */
  readonly state: "open" | "reconnecting" | "closed";
  /** Resolves when the client is closed for good: by {@linkcode McpClient.close}, or a loss it did not (or could not) reconnect from. */
  readonly closed: Promise<CloseInfo>;

  /**
   * One page of tools.
   *
   * @example
   * ```ts
   * import { connect } from "./client.ts";
   * const client = await connect("ws://127.0.0.1:8080/mcp");
   * let page = await client.listTools();
   * while (page.nextCursor) page = await client.listTools({ cursor: page.nextCursor });
   * ```
   */
  listTools(params?: ListParams, options?: RequestOptions): Promise<ListToolsResult>;
  /** Every tool, following `nextCursor` through all pages. */
  listAllTools(options?: RequestOptions): Promise<Tool[]>;
  /**
   * Calls a tool. A tool that fails resolves with `isError: true` (it does
   * not throw); an unknown tool rejects with an {@linkcode McpClientError}.
   *
   * @example
   * ```ts
   * import { connect } from "./client.ts";
   * const client = await connect("ws://127.0.0.1:8080/mcp");
   * const stop = new AbortController();
   * const result = await client.callTool("slow", { ms: 2000 }, {
   *   signal: stop.signal,
   *   onProgress: ({ progress, total }) => console.log(`${progress}/${total}`),
   * });
   * console.log(result.isError ? "failed" : result.content);
   * ```
   */
  callTool(name: string, args?: Record<string, unknown>, options?: RequestOptions): Promise<CallToolResult>;
  /** One page of resources. */
  listResources(params?: ListParams, options?: RequestOptions): Promise<ListResourcesResult>;
  /** Every resource, through all pages. */
  listAllResources(options?: RequestOptions): Promise<Resource[]>;
  /** One page of resource templates. */
  listResourceTemplates(params?: ListParams, options?: RequestOptions): Promise<ListResourceTemplatesResult>;
  /** Every resource template, through all pages. */
  listAllResourceTemplates(options?: RequestOptions): Promise<ResourceTemplate[]>;
  /** Reads a resource. */
  readResource(uri: string, options?: RequestOptions): Promise<ReadResourceResult>;
  /**
   * Subscribes to a resource's updates; resolves with a function that
   * unsubscribes. Subscriptions survive reconnection.
   *
   * @example
   * ```ts
   * import { connect } from "./client.ts";
   * const client = await connect("ws://127.0.0.1:8080/mcp");
   * const unsubscribe = await client.subscribe("config://app", async ({ uri }) => {
   *   console.log("changed:", (await client.readResource(uri)).contents);
   * });
   * // later
   * await unsubscribe();
   * ```
   */
  subscribe(
    uri: string,
    onUpdate: (params: { uri: string; [key: string]: unknown }) => void,
    options?: RequestOptions,
  ): Promise<() => Promise<void>>;
  /** One page of prompts. */
  listPrompts(params?: ListParams, options?: RequestOptions): Promise<ListPromptsResult>;
  /** Every prompt, through all pages. */
  listAllPrompts(options?: RequestOptions): Promise<Prompt[]>;
  /** Gets a prompt with its arguments filled in. */
  getPrompt(name: string, args?: Record<string, string>, options?: RequestOptions): Promise<GetPromptResult>;
  /**
   * Asks for completions of a prompt argument or a template variable.
   *
   * @example
   * ```ts
   * import { connect } from "./client.ts";
   * const client = await connect("ws://127.0.0.1:8080/mcp");
   * const { values } = await client.complete(
   *   { type: "ref/resource", uri: "users://{name}/profile" },
   *   { name: "name", value: "a" },
   * );
   * ```
   */
  complete(
    ref: CompleteRef,
    argument: { name: string; value: string },
    context?: { arguments?: Record<string, string> },
    options?: RequestOptions,
  ): Promise<Completion>;
  /** Sets the least severity of `notifications/message` the server sends; restored after reconnection. */
  setLogLevel(level: LoggingLevel, options?: RequestOptions): Promise<void>;
  /** Pings the server. */
  ping(options?: RequestOptions): Promise<void>;
  /**
   * Listens to a notification from the server, e.g. `notifications/message`,
   * `notifications/tools/list_changed`, `notifications/resources/updated`.
   * Returns a function that stops listening.
   *
   * @example
   * ```ts
   * import { connect } from "./client.ts";
   * const client = await connect("ws://127.0.0.1:8080/mcp");
   * const off = client.on("notifications/tools/list_changed", async () => {
   *   console.log(await client.listAllTools());
   * });
   * off();
   * ```
   */
  on(method: string, listener: NotificationListener): () => void;
  /** Sends `notifications/roots/list_changed`, for a client whose roots changed. */
  notifyRootsListChanged(): void;
  /** Sends any request and resolves with its result; for methods this interface lacks. */
  request(method: string, params?: Record<string, unknown>, options?: RequestOptions): Promise<Record<string, unknown>>;
  /** Sends any notification; dropped while the connection is down. */
  notify(method: string, params?: Record<string, unknown>): void;
  /** Closes the connection; pending requests reject. */
  close(): Promise<void>;
}

/**
 * Connects to an MCP server over WebSocket (subprotocol `mcp`), performs
 * `initialize` and `notifications/initialized`, and resolves with the
 * client. Rejects with an {@linkcode McpClientError} when the connection
 * or the handshake fails.
 *
 * @example Calling a tool
 * ```ts
 * import { connect } from "./client.ts";
 * const client = await connect("ws://127.0.0.1:8080/mcp", { clientInfo: { name: "my-app", version: "1.0.0" } });
 * const { content } = await client.callTool("add", { a: 1, b: 2 });
 * await client.close();
 * ```
 *
 * @example Answering the server's requests, reconnecting
 * ```ts
 * import { connect } from "./client.ts";
 * const client = await connect("ws://127.0.0.1:8080/mcp", {
 *   headers: { Authorization: "Bearer secret" }, // Deno and Bun only
 *   onSample: (params) => ({ role: "assistant", model: "my-model", content: { type: "text", text: "..." } }),
 *   onElicit: (params) => ({ action: "accept", content: { name: "Ada" } }),
 *   onListRoots: () => [{ uri: "file:///home/ada/project", name: "project" }],
 *   reconnect: { retries: 10, minDelay: 250, maxDelay: 10_000 },
 * });
 * client.on("notifications/message", ({ level, data }) => console.log(level, data));
 * ```
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<McpClient> {
  const client = new Client(url, options);
  await client.start();
  return client;
}

// ---------------------------------------------------------------------------
// Implementation

interface Pending {
  method: string;
  frame: string;
  sent: boolean;
  handshake: boolean;
  resolve(result: Record<string, unknown>): void;
  reject(error: unknown): void;
  settle(): void;
}

interface Subscription {
  listeners: Set<(params: { uri: string; [key: string]: unknown }) => void>;
}

type Sleep = { timer: ReturnType<typeof setTimeout>; wake: () => void };

function closedError(info: CloseInfo, method?: string): McpClientError {
  const how = `code ${info.code}${info.reason ? `: ${info.reason}` : ""}`;
  const what = method ? ` before the answer to ${method} arrived` : "";
  return new McpClientError(ErrorCode.ConnectionClosed, `Connection closed (${how})${what}`, info, method);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "Cancelled by the client";
}

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

class Client implements McpClient {
  readonly closed: Promise<CloseInfo>;
  #url: URL;
  #opts: ConnectOptions;
  #timeout: number;
  #reconnect?: Required<ReconnectOptions>;
  #headers?: Record<string, string>;
  #ws?: WebSocket;
  #state: "connecting" | "open" | "reconnecting" | "closed" = "connecting";
  #nextId = 0;
  #pending = new Map<RequestId, Pending>();
  #progress = new Map<RequestId, (p: Progress) => void>();
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
      for (const p of this.#pending.values()) {
        if (!p.sent) {
          (p.sent = true, ws.send(p.frame));
        }
      }
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
    for (const p of [...this.#pending.values()]) {
      if (p.sent || p.handshake) (p.settle(), p.reject(closedError(info, p.method)));
    }
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
    for (const p of [...this.#pending.values()]) (p.settle(), p.reject(closedError(info, p.method)));
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
      if (c.kind === "response") {
        const p = this.#pending.get(c.id);
        if (!p || !p.sent) continue; // late: timed out or cancelled
        p.settle();
        if (c.error) {
          const code = Number(c.error.code);
          p.reject(
            new McpClientError(
              Number.isFinite(code) ? code : ErrorCode.InternalError,
              String(c.error.message ?? "error"),
              c.error.data,
              p.method,
            ),
          );
        } else p.resolve(c.result ?? {});
      } else if (c.kind === "notification") this.#notification(c.msg);
      else if (c.kind === "request") this.#serverRequest(ws, c.msg);
    }
  }

  #notification(msg: JsonRpcNotification): void {
    const p = msg.params ?? {};
    if (msg.method === "notifications/progress") {
      const cb = this.#progress.get(p.progressToken as RequestId);
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
    const { signal, onProgress, meta } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const id = ++this.#nextId;
    if (onProgress || meta) {
      const m: Meta = { ...(params?._meta as Meta | undefined), ...meta };
      if (onProgress) (m.progressToken = id, this.#progress.set(id, onProgress));
      params = { ...params, _meta: m };
    }
    const timeout = options.timeout ?? this.#timeout;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cancel = (reason: string) => {
        if (p.sent && this.#ws?.readyState === OPEN) {
          this.#ws.send(notificationFrame("notifications/cancelled", { requestId: id, reason }));
        }
      };
      const onAbort = () => {
        p.settle();
        cancel(reasonText(signal!.reason));
        reject(abortReason(signal!));
      };
      const p: Pending = {
        method,
        frame: requestFrame(id, method, params),
        sent: false,
        handshake,
        resolve,
        reject,
        settle: () => {
          this.#pending.delete(id);
          this.#progress.delete(id);
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      };
      if (timeout > 0 && Number.isFinite(timeout)) {
        timer = setTimeout(() => {
          p.settle();
          cancel(`timed out after ${timeout} ms`);
          reject(
            new McpClientError(
              ErrorCode.RequestTimeout,
              `Request timed out: no answer to ${method} within ${timeout} ms`,
              { timeout },
              method,
            ),
          );
        }, Math.min(timeout, MAX_TIMER));
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, p);
      const ws = this.#ws;
      if ((this.#state === "open" || handshake) && ws?.readyState === OPEN) {
        p.sent = true;
        ws.send(p.frame);
      }
    });
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
