/**
 * An MCP client over WebSocket for Deno, Bun and browsers.
 *
 * It speaks protocol 2025-11-25 (and the three versions before it) to any
 * MCP server that accepts WebSocket connections with the `mcp` subprotocol,
 * such as one served by this library's `serve()`, and the per-request
 * protocol 2026-07-28 when asked to (`protocolVersion: "auto"` or
 * `"2026-07-28"`). It uses only what
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

import type { JsonRpcNotification, RequestId } from "./jsonrpc.ts";
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
import { Client } from "./_client/client.ts";

export type * from "./types.ts";
export { ErrorCode, type JsonRpcErrorObject, McpError, type RequestId } from "./jsonrpc.ts";
// Defined beside the code that uses them, so that no internal file imports this one at run time.
export { McpClientError } from "./_client/error.ts";
export { CLIENT_PROTOCOL_VERSION, CLIENT_PROTOCOL_VERSIONS } from "./_client/client.ts";
export { MAX_INPUT_ROUNDS } from "./_client/per_request.ts";

/** Capabilities the server announced in its `initialize` (or `server/discover`) result. */
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
  /**
   * Aborted when the server cancels the request or the connection closes;
   * under 2026-07-28, when the request that asked is aborted.
   */
  signal: AbortSignal;
  /** The request's id; under 2026-07-28, the key of the input request in `inputRequests`. */
  requestId: RequestId;
}

/**
 * What a `subscriptions/listen` stream carries (protocol 2026-07-28): list
 * changes of tools, prompts or resources, and updates of some resources.
 */
export interface ListenFilter {
  /** `notifications/tools/list_changed`. */
  toolsListChanged?: boolean;
  /** `notifications/prompts/list_changed`. */
  promptsListChanged?: boolean;
  /** `notifications/resources/list_changed`. */
  resourcesListChanged?: boolean;
  /** `notifications/resources/updated` for these URIs. */
  resourceSubscriptions?: string[];
}

/** A listen in progress, from {@linkcode McpClient.listen}. */
export interface Listening {
  /** The part of the filter the server agreed to honour (renewed after a reconnection). */
  readonly honoured: ListenFilter;
  /** Stops listening: sends `notifications/cancelled` (2025 era: unsubscribes). */
  stop(): Promise<void>;
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
  /**
   * The protocol to speak. A version of {@linkcode CLIENT_PROTOCOL_VERSIONS}
   * before 2026-07-28 performs `initialize` asking for it; `"2026-07-28"`
   * sends `server/discover` and then names the version, the client's
   * capabilities, its info and its log level in every request's `_meta`,
   * failing when the server does not speak it; `"auto"` sends
   * `server/discover` and speaks 2026-07-28 when the server lists it, else
   * (an error other than a 2026-07-28 one, or no answer within 10 s or half
   * of `timeout`) falls back to `initialize` with the newest version.
   * Default `"2025-11-25"`. A reconnection keeps the era found.
   */
  protocolVersion?: string;
  /** Default time limit of every request, in milliseconds (also of connecting). 0 waits forever. Default 60,000. */
  timeout?: number;
  /**
   * HTTP headers of the WebSocket handshake, e.g. `Authorization`. Deno and
   * Bun send them; browsers cannot, so there this option throws a
   * `TypeError` (pass credentials in the URL or a cookie instead). A
   * function is called on every connect, so that a reconnection (after a
   * server closed the socket with 4401 as its token expired) sends a fresh
   * token.
   */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
  /** Aborts connecting. */
  signal?: AbortSignal;
  /** Answers `sampling/createMessage`; giving it declares the `sampling` capability. */
  onSample?: (params: CreateMessageParams, ctx: HandlerContext) => CreateMessageResult | Promise<CreateMessageResult>;
  /**
   * Answers `elicitation/create`; giving it declares the `elicitation`
   * capability in form mode. To also take URL mode (`params.mode === "url"`:
   * open `params.url`, answer `{ action: "accept" }` once the user agreed,
   * and hear `notifications/elicitation/complete` through
   * {@linkcode McpClient.on}), declare it: `capabilities: { elicitation: { form: {}, url: {} } }`.
   */
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
   * with exponential backoff: initializes (or discovers) again, subscribes
   * and listens again, and restores the log level. Requests in flight at the loss reject; requests
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
  /** The negotiated protocol version: `"2026-07-28"` when requests carry it in `_meta`. */
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
   * unsubscribes. Subscriptions survive reconnection. Under 2026-07-28 each
   * URI gets a `subscriptions/listen` of its own.
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
  /**
   * Sets the least severity of `notifications/message` the server sends;
   * restored after reconnection. Under 2026-07-28 nothing is sent: every
   * later request carries the level in `_meta`, and the server logs only
   * while it answers a request that has one.
   */
  setLogLevel(level: LoggingLevel, options?: RequestOptions): Promise<void>;
  /**
   * Opens a `subscriptions/listen` stream (protocol 2026-07-28) and resolves
   * once the server acknowledges it. Its notifications reach
   * `onNotification` and {@linkcode McpClient.on} listeners (which hear
   * each notification once, however many listens bring it), not the
   * callbacks of `subscribe`; after a reconnection the client listens again. Under
   * the 2025 protocols the same call subscribes to each URI of
   * `resourceSubscriptions` and passes the list changes the server
   * announces (they need no opt-in there) to `onNotification`.
   *
   * @example
   * ```ts
   * import { connect } from "./client.ts";
   * const client = await connect("ws://127.0.0.1:8080/mcp", { protocolVersion: "2026-07-28" });
   * const listening = await client.listen(
   *   { toolsListChanged: true, resourceSubscriptions: ["config://app"] },
   *   (params, { method }) => console.log(method, params),
   * );
   * console.log(listening.honoured);
   * await listening.stop();
   * ```
   */
  listen(filter: ListenFilter, onNotification?: NotificationListener, options?: RequestOptions): Promise<Listening>;
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
 * `initialize` and `notifications/initialized` (or, for protocol
 * 2026-07-28, `server/discover`), and resolves with the client. Rejects
 * with an {@linkcode McpClientError} when the connection or the handshake
 * fails.
 *
 * Under 2026-07-28 a server that needs the client's input answers
 * `tools/call`, `prompts/get` or `resources/read` with `input_required`:
 * the client calls `onElicit`, `onSample` or `onListRoots` for each input
 * request and retries with the answers, at most {@linkcode MAX_INPUT_ROUNDS}
 * rounds, so the call resolves with the final result as it does under
 * 2025-11-25.
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
 *
 * @example Protocol 2026-07-28 when the server speaks it, else initialize
 * ```ts
 * import { connect } from "./client.ts";
 * const client = await connect("ws://127.0.0.1:8080/mcp", {
 *   protocolVersion: "auto",
 *   onElicit: () => ({ action: "accept", content: { name: "Ada" } }),
 * });
 * console.log(client.protocolVersion); // "2026-07-28" against this library's server
 * const { content } = await client.callTool("greet_user"); // input_required rounds happen inside
 * ```
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<McpClient> {
  const client = new Client(url, options);
  await client.start();
  return client;
}
