/**
 * The MCP server: a registry of tools, resources and prompts, and a
 * per-connection dispatcher ({@linkcode Session}) that speaks JSON-RPC over
 * any {@linkcode Channel}. Nothing here knows about sockets.
 *
 * @module
 */

import {
  classify,
  ErrorCode,
  errorFrame,
  idJson,
  type JsonRpcErrorObject,
  type JsonRpcNotification,
  type JsonRpcRequest,
  McpError,
  notificationFrame,
  requestFrame,
  type RequestId,
  resultFrame,
} from "./jsonrpc.ts";
import {
  assertSchema,
  elicitationSchema,
  formatIssues,
  inputJsonSchema,
  outputJsonSchema,
  validate,
} from "./schema.ts";
import type {
  Annotations,
  CallToolResult,
  ContentBlock,
  CreateMessageParams,
  CreateMessageResult,
  ElicitResult,
  GetPromptResult,
  Icon,
  Implementation,
  InferOutput,
  LoggingLevel,
  Meta,
  Prompt,
  PromptMessage,
  ReadResourceResult,
  Resource,
  ResourceContents,
  ResourceTemplate,
  Root,
  StandardSchemaV1,
  Tool,
  ToolAnnotations,
} from "./types.ts";
import { UriTemplate } from "./uri_template.ts";
import { StateSealer } from "./request_state.ts";

/** Protocol versions this server speaks, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
];

/** The newest protocol version this server speaks through `initialize`. */
export const LATEST_PROTOCOL_VERSION = "2025-11-25";

/**
 * Per-request protocol versions (2026-07-28 and later): no `initialize`;
 * every request names its version and the client's capabilities in `_meta`.
 */
export const PER_REQUEST_PROTOCOL_VERSIONS: readonly string[] = ["2026-07-28"];

/** Keys of a 2026-07-28 request's `_meta`. */
const META = {
  version: "io.modelcontextprotocol/protocolVersion",
  caps: "io.modelcontextprotocol/clientCapabilities",
  info: "io.modelcontextprotocol/clientInfo",
  logLevel: "io.modelcontextprotocol/logLevel",
  serverInfo: "io.modelcontextprotocol/serverInfo",
  subscriptionId: "io.modelcontextprotocol/subscriptionId",
} as const;

/** How long a client may cache a 2026-07-28 result, and whether caches may share it. */
export interface CacheHint {
  /** Milliseconds the result stays fresh; 0 means immediately stale. */
  ttlMs: number;
  /** `"private"`: only this client may reuse it; `"public"`: shared caches may too. */
  cacheScope: "public" | "private";
}

const LEVELS: readonly LoggingLevel[] = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
];
const levelRank = (l: string): number => LEVELS.indexOf(l as LoggingLevel);
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

// ---------------------------------------------------------------------------
// Options and registration types

/** Options of {@linkcode McpServer}. */
export interface McpServerOptions {
  /** Programmatic name, sent as `serverInfo.name`. */
  name: string;
  /** Version, sent as `serverInfo.version`. */
  version: string;
  /** Display name. */
  title?: string;
  /** What the server is, in a sentence. */
  description?: string;
  /** Icons for display. */
  icons?: Icon[];
  /** Home page. */
  websiteUrl?: string;
  /** How to use the server, for the model; sent with `initialize`. */
  instructions?: string;
  /** Items per page of every list method. Default 100. */
  pageSize?: number;
  /** Milliseconds a handler may run before it is aborted and answered with a timeout error. Default 0: no limit. */
  requestTimeout?: number;
  /** Milliseconds to wait for the client's answer to a sampling, elicitation or roots request; 0 waits forever. Default 60,000. */
  clientRequestTimeout?: number;
  /** Requests one connection may have in flight; more are refused with an error. Default 64. */
  maxInFlight?: number;
  /** Least severity sent as `notifications/message` until a client sets its level. Default `"info"`. */
  logLevel?: LoggingLevel;
  /** Called when a client sends `notifications/roots/list_changed`. */
  onRootsListChanged?: (session: Session) => void;
  /**
   * Kinds to advertise even while none is registered, for servers that
   * register tools, resources or prompts after clients connect: a client is
   * only told of kinds (and their list changes) that `initialize` advertised.
   * Default: what is registered at the time.
   */
  capabilities?: { tools?: boolean; resources?: boolean; prompts?: boolean };
  /**
   * Key that signs `requestState` in 2026-07-28 multi round-trip requests,
   * at least 16 bytes (32 random bytes recommended). Give every instance
   * behind one load balancer the same secret. Default: 32 random bytes per
   * process, so a state sealed by one process opens on no other.
   */
  stateSecret?: string | Uint8Array;
  /** Milliseconds a `requestState` stays valid. Default 600,000 (10 minutes). */
  requestStateTtl?: number;
  /**
   * Cache hints on 2026-07-28 results, by list. Default: lists and discovery
   * `{ ttlMs: 60_000, cacheScope: "private" }`; resource reads take theirs
   * from the resource's `cache` (default `{ ttlMs: 0, cacheScope: "private" }`).
   */
  cache?: Partial<Record<"discover" | "tools" | "prompts" | "resources" | "templates", CacheHint>>;
}

/** What a tool handler may return; see {@linkcode McpServer.tool}. */
export type ToolReturn<Out> =
  | string
  | ContentBlock
  | ContentBlock[]
  | CallToolResult
  | Out
  | undefined
  | void;

/** Definition of a tool: its schemas and descriptive metadata. */
export interface ToolDefinition<In extends StandardSchemaV1 | undefined, Out extends StandardSchemaV1 | undefined> {
  /** Display name. */
  title?: string;
  /** What the tool does, for a model. */
  description?: string;
  /** Schema of the arguments (an object schema). */
  input?: In;
  /** Schema of `structuredContent`. */
  output?: Out;
  /** Behaviour hints. */
  annotations?: ToolAnnotations;
  /** Icons for display. */
  icons?: Icon[];
  /** Metadata. */
  _meta?: Meta;
}

/** A tool handler: receives validated arguments and a {@linkcode Context}. */
export type ToolHandler<In extends StandardSchemaV1 | undefined, Out extends StandardSchemaV1 | undefined> = (
  args: In extends StandardSchemaV1 ? InferOutput<In> : Record<string, unknown>,
  ctx: Context,
) =>
  | ToolReturn<Out extends StandardSchemaV1 ? InferOutput<Out> : Record<string, unknown>>
  | Promise<ToolReturn<Out extends StandardSchemaV1 ? InferOutput<Out> : Record<string, unknown>>>;

/** Metadata of a static resource. */
export interface ResourceDefinition {
  /** Programmatic name. Defaults to the URI. */
  name?: string;
  /** Display name. */
  title?: string;
  /** What it is. */
  description?: string;
  /** MIME type. */
  mimeType?: string;
  /** Size in bytes. */
  size?: number;
  /** Icons for display. */
  icons?: Icon[];
  /** Display hints. */
  annotations?: Annotations;
  /** Metadata. */
  _meta?: Meta;
  /** Cache hint for 2026-07-28 reads. Default `{ ttlMs: 0, cacheScope: "private" }`. */
  cache?: CacheHint;
}

/**
 * What a resource reader may return: a string (text), bytes (blob), one
 * contents object, an array of them, or a full `ReadResourceResult`.
 */
export type ResourceReturn =
  | string
  | Uint8Array
  | Partial<ResourceContents>
  | ResourceContents[]
  | ReadResourceResult;

/** Reads a static resource. */
export type ResourceReader = (uri: string, ctx: Context) => ResourceReturn | Promise<ResourceReturn>;

/** Completes one variable or argument: the current value in, candidate values out. */
export type Completer = (
  value: string,
  context: { arguments: Record<string, string>; ctx: Context },
) => string[] | Promise<string[]>;

/** Metadata of a resource template. */
export interface ResourceTemplateDefinition extends Omit<ResourceDefinition, "size" | "name" | "cache"> {
  /** Programmatic name. Defaults to the template. */
  name?: string;
  /** Completion callbacks by variable name. */
  complete?: Record<string, Completer>;
  /** Lists concrete resources of this template for `resources/list`. */
  list?: (ctx: Context) => Resource[] | Promise<Resource[]>;
}

/** Reads a templated resource; `vars` holds the template variables. */
export type TemplateReader = (
  uri: string,
  vars: Record<string, string | string[]>,
  ctx: Context,
) => ResourceReturn | Promise<ResourceReturn>;

/** Definition of a prompt. */
export interface PromptDefinition<Args extends StandardSchemaV1 | undefined> {
  /** Display name. */
  title?: string;
  /** What it is for. */
  description?: string;
  /** Schema of the arguments: an object schema of string fields. */
  args?: Args;
  /** Completion callbacks by argument name. */
  complete?: Record<string, Completer>;
  /** Icons for display. */
  icons?: Icon[];
  /** Metadata. */
  _meta?: Meta;
}

/** What a prompt handler may return: text (one user message), messages, or a full `GetPromptResult`. */
export type PromptReturn = string | PromptMessage[] | GetPromptResult;

/** A prompt handler. */
export type PromptHandler<Args extends StandardSchemaV1 | undefined> = (
  args: Args extends StandardSchemaV1 ? InferOutput<Args> : Record<string, string>,
  ctx: Context,
) => PromptReturn | Promise<PromptReturn>;

/** A handle on something registered: switch it off and on, or remove it. */
export interface Registered {
  /** Whether clients see it. */
  readonly enabled: boolean;
  /** Shows it to clients again. */
  enable(): void;
  /** Hides it from clients without forgetting it. */
  disable(): void;
  /** Forgets it. */
  remove(): void;
}

type Kind = "tools" | "resources" | "prompts";

interface ToolEntry {
  def: Tool;
  input?: StandardSchemaV1;
  output?: StandardSchemaV1;
  handler: ToolHandler<StandardSchemaV1 | undefined, StandardSchemaV1 | undefined>;
  enabled: boolean;
}

interface ResourceEntry {
  def: Resource;
  read: ResourceReader;
  cache?: CacheHint;
  enabled: boolean;
}

interface TemplateEntry {
  def: ResourceTemplate;
  template: UriTemplate;
  read: TemplateReader;
  complete?: Record<string, Completer>;
  list?: (ctx: Context) => Resource[] | Promise<Resource[]>;
  enabled: boolean;
}

interface PromptEntry {
  def: Prompt;
  args?: StandardSchemaV1;
  complete?: Record<string, Completer>;
  handler: PromptHandler<StandardSchemaV1 | undefined>;
  enabled: boolean;
}

// ---------------------------------------------------------------------------
// McpServer

/**
 * An MCP server: register tools, resources and prompts, then serve it with
 * {@linkcode serve} (or mount {@linkcode websocketHandler} beside your own
 * routes). One instance serves any number of connections.
 *
 * @example
 * ```ts
 * import { McpServer, serve } from "./mod.ts";
 * import { z } from "zod";
 *
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * server.tool("add", {
 *   description: "Add two numbers",
 *   input: z.object({ a: z.number(), b: z.number() }),
 * }, ({ a, b }) => String(a + b));
 * serve(server, { port: 8080 });
 * ```
 */
export class McpServer {
  /** The options given at construction, with defaults filled in. */
  readonly options:
    & Readonly<
      Required<
        Pick<McpServerOptions, "pageSize" | "requestTimeout" | "clientRequestTimeout" | "maxInFlight" | "logLevel">
      >
    >
    & Readonly<McpServerOptions>;
  /** Every open session. */
  readonly sessions: Set<Session> = new Set();

  #tools = new Map<string, ToolEntry>();
  #resources = new Map<string, ResourceEntry>();
  #templates = new Map<string, TemplateEntry>();
  #prompts = new Map<string, PromptEntry>();
  #listCache = new Map<string, string>();
  #pendingChanges = new Set<Kind>();
  #serverInfo: Implementation;
  #sealer?: StateSealer;

  /** @internal Signs multi round-trip request states; made on first use. */
  get _sealer(): StateSealer {
    return this.#sealer ??= new StateSealer(this.options.stateSecret);
  }

  /** Creates a server; `name` and `version` identify it to clients. */
  constructor(options: McpServerOptions) {
    if (!options || typeof options.name !== "string" || typeof options.version !== "string") {
      throw new TypeError("McpServer needs { name: string, version: string }");
    }
    this.options = {
      pageSize: 100,
      requestTimeout: 0,
      clientRequestTimeout: 60_000,
      maxInFlight: 64,
      logLevel: "info",
      ...options,
    };
    if (!(this.options.pageSize >= 1)) throw new RangeError("pageSize must be at least 1");
    if (levelRank(this.options.logLevel) < 0) throw new RangeError(`unknown logLevel "${this.options.logLevel}"`);
    const secret = options.stateSecret;
    // An empty or short secret (an unset variable read as "") would sign states anyone can forge.
    if (secret !== undefined && (typeof secret === "string" ? new TextEncoder().encode(secret) : secret).length < 16) {
      throw new RangeError("stateSecret must be at least 16 bytes (32 random bytes recommended)");
    }
    const { name, version, title, description, icons, websiteUrl } = options;
    this.#serverInfo = strip({ name, version, title, description, icons, websiteUrl });
  }

  /**
   * Registers a tool. The handler may return a string, a content block, an
   * array of blocks, a full `CallToolResult`, or (with `output`) a plain
   * object that becomes `structuredContent` with a JSON text fallback.
   * A thrown error becomes a result with `isError: true`.
   *
   * @example
   * ```ts
   * import { McpServer } from "./mod.ts";
   * import { z } from "zod";
   * const server = new McpServer({ name: "demo", version: "1.0.0" });
   * server.tool("weather", {
   *   input: z.object({ city: z.string() }),
   *   output: z.object({ celsius: z.number() }),
   * }, ({ city }) => ({ celsius: city.length }));
   * ```
   */
  tool<In extends StandardSchemaV1 | undefined = undefined, Out extends StandardSchemaV1 | undefined = undefined>(
    name: string,
    definition: ToolDefinition<In, Out>,
    handler: ToolHandler<In, Out>,
  ): Registered {
    if (!TOOL_NAME.test(name)) {
      throw new TypeError(`tool name "${name}" must be 1-128 characters of A-Z, a-z, 0-9, _, - and .`);
    }
    if (typeof handler !== "function") throw new TypeError(`tool "${name}" needs a handler function`);
    const { input, output, title, description, annotations, icons, _meta } = definition ?? {};
    let inputSchema: Record<string, unknown> = { type: "object", additionalProperties: false };
    if (input !== undefined) {
      assertSchema(input, `input of tool "${name}"`);
      inputSchema = inputJsonSchema(input, `input of tool "${name}"`);
      if (inputSchema.type !== "object") throw new TypeError(`input of tool "${name}" must be an object schema`);
    }
    let outputSchema: Record<string, unknown> | undefined;
    if (output !== undefined) {
      assertSchema(output, `output of tool "${name}"`);
      outputSchema = outputJsonSchema(output, `output of tool "${name}"`);
      if (outputSchema.type !== "object") throw new TypeError(`output of tool "${name}" must be an object schema`);
    }
    const entry: ToolEntry = {
      def: strip({ name, title, description, inputSchema, outputSchema, annotations, icons, _meta }),
      input,
      output,
      handler: handler as ToolEntry["handler"],
      enabled: true,
    };
    return this.#register("tools", this.#tools, name, entry, `tool "${name}"`);
  }

  /**
   * Registers a resource at a fixed URI. The reader may return a string
   * (text), a `Uint8Array` (blob), contents objects or a full result.
   *
   * @example
   * ```ts
   * import { McpServer } from "./mod.ts";
   * const server = new McpServer({ name: "demo", version: "1.0.0" });
   * server.resource("config://app", { mimeType: "application/json" }, () => '{"debug":false}');
   * ```
   */
  resource(uri: string, definition: ResourceDefinition, read: ResourceReader): Registered {
    if (typeof uri !== "string" || !uri) throw new TypeError("resource uri must be a non-empty string");
    if (typeof read !== "function") throw new TypeError(`resource "${uri}" needs a read function`);
    const { cache, ...meta } = definition ?? {};
    const entry: ResourceEntry = { def: strip({ uri, name: uri, ...meta }), read, cache, enabled: true };
    return this.#register("resources", this.#resources, uri, entry, `resource "${uri}"`);
  }

  /**
   * Registers a resource template (RFC 6570). `read` receives the matched
   * variables; `complete` offers values for them to `completion/complete`.
   *
   * @example
   * ```ts
   * import { McpServer } from "./mod.ts";
   * const server = new McpServer({ name: "demo", version: "1.0.0" });
   * server.resourceTemplate("greeting://{name}", {
   *   complete: { name: (v) => ["ada", "alan"].filter((n) => n.startsWith(v)) },
   * }, (uri, { name }) => `Hello, ${name}!`);
   * ```
   */
  resourceTemplate(template: string, definition: ResourceTemplateDefinition, read: TemplateReader): Registered {
    const parsed = new UriTemplate(template);
    if (typeof read !== "function") throw new TypeError(`resource template "${template}" needs a read function`);
    const { complete, list, ...meta } = definition ?? {};
    const entry: TemplateEntry = {
      def: strip({ uriTemplate: template, name: template, ...meta }),
      template: parsed,
      read,
      complete,
      list,
      enabled: true,
    };
    return this.#register("resources", this.#templates, template, entry, `resource template "${template}"`);
  }

  /**
   * Registers a prompt. `args` is an object schema of string fields; its
   * properties become the prompt's `arguments`.
   *
   * @example
   * ```ts
   * import { McpServer } from "./mod.ts";
   * import { z } from "zod";
   * const server = new McpServer({ name: "demo", version: "1.0.0" });
   * server.prompt("review", {
   *   args: z.object({ code: z.string().describe("The code to review") }),
   * }, ({ code }) => `Please review:\n${code}`);
   * ```
   */
  prompt<Args extends StandardSchemaV1 | undefined = undefined>(
    name: string,
    definition: PromptDefinition<Args>,
    handler: PromptHandler<Args>,
  ): Registered {
    if (typeof name !== "string" || !name) throw new TypeError("prompt name must be a non-empty string");
    if (typeof handler !== "function") throw new TypeError(`prompt "${name}" needs a handler function`);
    const { args, complete, title, description, icons, _meta } = definition ?? {};
    let argumentsList: Prompt["arguments"];
    if (args !== undefined) {
      assertSchema(args, `args of prompt "${name}"`);
      const json = inputJsonSchema(args, `args of prompt "${name}"`);
      const props = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
      const required = new Set(Array.isArray(json.required) ? json.required as string[] : []);
      argumentsList = Object.entries(props).map(([argName, p]) =>
        strip({
          name: argName,
          title: typeof p.title === "string" ? p.title : undefined,
          description: typeof p.description === "string" ? p.description : undefined,
          required: required.has(argName),
        })
      );
    }
    const entry: PromptEntry = {
      def: strip({ name, title, description, arguments: argumentsList, icons, _meta }),
      args,
      complete,
      handler: handler as PromptEntry["handler"],
      enabled: true,
    };
    return this.#register("prompts", this.#prompts, name, entry, `prompt "${name}"`);
  }

  /** Sends `notifications/resources/updated` to every session subscribed to `uri`. */
  resourceUpdated(uri: string): void {
    for (const s of this.sessions) s._resourceUpdated(uri);
  }

  /** Sends a log message to every session whose level lets it through. */
  log(level: LoggingLevel, data: unknown, logger?: string): void {
    for (const s of this.sessions) s.log(level, data, logger);
  }

  /** Capabilities as sent in the `initialize` result. */
  get capabilities(): Record<string, unknown> {
    const declared = this.options.capabilities ?? {};
    const caps: Record<string, unknown> = { logging: {} };
    if (this.#tools.size || declared.tools) caps.tools = { listChanged: true };
    const resources = this.#resources.size || this.#templates.size || declared.resources;
    if (resources) caps.resources = { subscribe: true, listChanged: true };
    if (this.#prompts.size || declared.prompts) caps.prompts = { listChanged: true };
    if (this.#prompts.size || this.#templates.size || declared.prompts || declared.resources) caps.completions = {};
    return caps;
  }

  /** `serverInfo` as sent in the `initialize` result. */
  get serverInfo(): Implementation {
    return this.#serverInfo;
  }

  /**
   * Opens a session on a channel: the transport calls this once per
   * connection, feeds each incoming text message to
   * {@linkcode Session.receive}, and calls {@linkcode Session.closed} when
   * the connection ends.
   */
  connect(channel: Channel, init: SessionInit = {}): Session {
    const session = new Session(this, channel, init);
    this.sessions.add(session);
    return session;
  }

  // -- registry internals ---------------------------------------------------

  #register<E extends { enabled: boolean }>(
    kind: Kind,
    map: Map<string, E>,
    key: string,
    entry: E,
    what: string,
  ): Registered {
    if (map.has(key)) throw new Error(`${what} is already registered`);
    map.set(key, entry);
    this.#changed(kind);
    const changed = () => this.#changed(kind);
    return {
      get enabled() {
        return entry.enabled;
      },
      enable() {
        if (!entry.enabled && map.get(key) === entry) (entry.enabled = true, changed());
      },
      disable() {
        if (entry.enabled && map.get(key) === entry) (entry.enabled = false, changed());
      },
      remove() {
        if (map.get(key) === entry) (map.delete(key), changed());
      },
    };
  }

  // Coalesces a burst of registrations into one list_changed per kind.
  #changed(kind: Kind): void {
    for (const k of this.#listCache.keys()) if (k.startsWith(kind)) this.#listCache.delete(k);
    if (!this.sessions.size) return;
    if (!this.#pendingChanges.size) {
      queueMicrotask(() => {
        const kinds = [...this.#pendingChanges];
        this.#pendingChanges.clear();
        for (const s of this.sessions) for (const k of kinds) s._listChanged(k);
      });
    }
    this.#pendingChanges.add(kind);
  }

  /** @internal A page of a list method's result, serialized once and cached. */
  _page(kind: string, cursor: unknown, items: () => unknown[]): string {
    const offset = decodeCursor(kind, cursor);
    const key = `${kind}:${offset}`;
    let json = this.#listCache.get(key);
    if (json === undefined) {
      const all = items();
      const size = this.options.pageSize;
      const page = all.slice(offset, offset + size);
      const field = kind === "resources/templates" ? "resourceTemplates" : kind;
      const result: Record<string, unknown> = { [field]: page };
      if (offset + size < all.length) result.nextCursor = encodeCursor(kind, offset + size);
      json = JSON.stringify(result);
      this.#listCache.set(key, json);
    }
    return json;
  }

  /** @internal */
  _listTools(): Tool[] {
    return [...this.#tools.values()].filter((t) => t.enabled).map((t) => t.def);
  }

  /** @internal */
  _tool(name: unknown): ToolEntry | undefined {
    const t = typeof name === "string" ? this.#tools.get(name) : undefined;
    return t?.enabled ? t : undefined;
  }

  /** @internal */
  _listResources(): Resource[] {
    return [...this.#resources.values()].filter((r) => r.enabled).map((r) => r.def);
  }

  /** @internal */
  _templateLists(): TemplateEntry[] {
    return [...this.#templates.values()].filter((t) => t.enabled && t.list);
  }

  /** @internal */
  _listTemplates(): ResourceTemplate[] {
    return [...this.#templates.values()].filter((t) => t.enabled).map((t) => t.def);
  }

  /** @internal Finds the reader for a URI: exact resources first, then templates in registration order. */
  _findResource(
    uri: string,
  ):
    | { read: (ctx: Context) => ResourceReturn | Promise<ResourceReturn>; mimeType?: string; cache?: CacheHint }
    | undefined {
    const r = this.#resources.get(uri);
    if (r?.enabled) return { read: (ctx) => r.read(uri, ctx), mimeType: r.def.mimeType, cache: r.cache };
    for (const t of this.#templates.values()) {
      if (!t.enabled) continue;
      const vars = t.template.match(uri);
      if (vars) return { read: (ctx) => t.read(uri, vars, ctx), mimeType: t.def.mimeType };
    }
    return undefined;
  }

  /** @internal */
  _template(uriTemplate: unknown): TemplateEntry | undefined {
    const t = typeof uriTemplate === "string" ? this.#templates.get(uriTemplate) : undefined;
    return t?.enabled ? t : undefined;
  }

  /** @internal */
  _listPrompts(): Prompt[] {
    return [...this.#prompts.values()].filter((p) => p.enabled).map((p) => p.def);
  }

  /** @internal */
  _prompt(name: unknown): PromptEntry | undefined {
    const p = typeof name === "string" ? this.#prompts.get(name) : undefined;
    return p?.enabled ? p : undefined;
  }
}

// Cursors name their list so one list's cursor is refused by another.
function encodeCursor(kind: string, offset: number): string {
  return btoa(`${kind}:${offset}`);
}

function decodeCursor(kind: string, cursor: unknown): number {
  if (cursor === undefined) return 0;
  const bad = () =>
    new McpError(ErrorCode.InvalidParams, "Invalid cursor: pass the nextCursor of a previous page unchanged");
  if (typeof cursor !== "string" || cursor.length > 200) throw bad();
  let text: string;
  try {
    text = atob(cursor);
  } catch {
    throw bad();
  }
  const prefix = `${kind}:`;
  if (!text.startsWith(prefix)) throw bad();
  const digits = text.slice(prefix.length);
  if (!/^[0-9]{1,9}$/.test(digits)) throw bad();
  return Number(digits);
}

// Drops undefined fields so results carry no `"x": undefined` noise.
function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

// ---------------------------------------------------------------------------
// Session

/**
 * The link a transport gives a session: send one text message, or close.
 * `meta` lets a transport that routes per request (HTTP) tell which client
 * request a message answers or belongs to; a socket ignores it.
 */
export interface Channel {
  /** Sends one JSON-RPC message (or batch) as text. */
  send(text: string, meta?: SendMeta): void;
  /** Closes the connection with a WebSocket-style code and reason. */
  close(code: number, reason: string): void;
  /** Called when a client request ends without a response (it was cancelled). */
  noResponse?(id: RequestId): void;
}

/** Which client request an outgoing message relates to. */
export interface SendMeta {
  /** The message is the response to this client request (the ids of a batch for a batch response). */
  responseTo?: RequestId | RequestId[];
  /** The message was sent by the handler of this client request (progress, log, a request to the client). */
  relatedTo?: RequestId;
}

/** What a transport knows about a connection when it opens. */
export interface SessionInit {
  /** The result of the `authenticate` hook, exposed to handlers as `ctx.auth`. */
  auth?: unknown;
  /** The transport's name, e.g. `"websocket"`. */
  transport?: string;
}

interface InFlight {
  controller?: AbortController;
  cancelled: boolean;
  timer?: ReturnType<typeof setTimeout>;
  ctx?: Context;
}

interface Outbound {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
  timer?: ReturnType<typeof setTimeout>;
  cleanup?: () => void;
}

/** Options of a request the server sends to the client. */
export interface ClientRequestOptions {
  /** Aborts the request; the client is sent `notifications/cancelled`. */
  signal?: AbortSignal;
  /** Milliseconds to wait for the answer. Defaults to the server's `clientRequestTimeout`. */
  timeout?: number;
  /** The client request whose handler sends this one; set by {@linkcode Context}. */
  relatedTo?: RequestId;
}

/**
 * One client connection: its negotiated protocol version, its capabilities,
 * its requests in flight. Created by {@linkcode McpServer.connect}.
 */
export class Session {
  /** A random id for logs and bookkeeping. */
  readonly id: string = crypto.randomUUID();
  /** The server this session belongs to. */
  readonly server: McpServer;
  /** The result of the transport's `authenticate` hook. */
  readonly auth: unknown;
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

  #channel: Channel;
  #inflight = new Map<RequestId, InFlight>();
  #outbound = new Map<RequestId, Outbound>();
  #nextId = 0;
  #closed = false;
  #draining = false;
  #idleWaiters: (() => void)[] = [];
  #listens = new Map<RequestId, { filter: SubscriptionFilter; end: () => void }>();
  #advertised: Record<string, unknown> = {};

  /** @internal Use {@linkcode McpServer.connect}. */
  constructor(server: McpServer, channel: Channel, init: SessionInit) {
    this.server = server;
    this.#channel = channel;
    this.auth = init.auth;
    this.transport = init.transport ?? "unknown";
    this.logLevel = server.options.logLevel;
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

  /** Handles one incoming text message (a JSON-RPC message or batch). */
  receive(text: string): void {
    if (this.#closed) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#send(
        errorFrame(null, { code: ErrorCode.ParseError, message: "Parse error: the message is not valid JSON" }),
      );
      return;
    }
    this.receiveValue(value);
  }

  /** Handles one already-parsed JSON value, for transports that parse the body themselves. */
  receiveValue(value: unknown): void {
    if (this.#closed) return;
    if (Array.isArray(value)) return this.#batch(value);
    const out = this.#handle(value);
    if (out === undefined) return;
    const id = typeof value === "object" && value !== null ? (value as { id?: unknown }).id : undefined;
    const meta = typeof id === "string" || typeof id === "number" ? { responseTo: id } : undefined;
    if (typeof out === "string") this.#send(out, meta);
    else {
      out.then((f) => {
        if (f !== undefined) this.#send(f, meta);
        else if (meta) this.#noResponse(meta.responseTo);
      });
    }
  }

  /** Called by the transport when the connection is gone: aborts every handler and pending client request. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.server.sessions.delete(this);
    this.#listens.clear();
    for (const f of this.#inflight.values()) {
      f.cancelled = true;
      if (f.timer) clearTimeout(f.timer);
      (f.controller ??= new AbortController()).abort(new McpError(ErrorCode.ConnectionClosed, "Connection closed"));
    }
    this.#inflight.clear();
    this.#wakeIdle();
    const err = new McpError(ErrorCode.ConnectionClosed, "Connection closed before the client answered");
    for (const o of this.#outbound.values()) (clearTimeout(o.timer), o.cleanup?.(), o.reject(err));
    this.#outbound.clear();
  }

  /** Closes the connection from the server side. */
  close(code = 1000, reason = ""): void {
    if (this.#closed) return;
    try {
      this.#channel.close(code, reason);
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
    for (const l of [...this.#listens.values()]) l.end();
    if (!this.#inflight.size) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Aborts every handler still running, e.g. at a shutdown deadline. */
  abortAll(reason: string): void {
    for (const f of this.#inflight.values()) {
      (f.controller ??= new AbortController()).abort(new McpError(ErrorCode.ConnectionClosed, reason));
    }
  }

  /** @internal Sends a list_changed to this client: plain if initialized, tagged on each listen that asked for it. */
  _listChanged(kind: Kind): void {
    const method = `notifications/${kind}/list_changed`;
    // Only kinds this client was told about at initialize (a later registration can add a kind).
    if (this.ready && this.#advertised[kind]) this.notify(method);
    const flag = `${kind}ListChanged` as const;
    for (const [id, l] of this.#listens) {
      if (l.filter[flag]) this.notify(method, { _meta: { [META.subscriptionId]: id } });
    }
  }

  /** @internal Sends resources/updated to legacy subscribers and to listens that name the URI. */
  _resourceUpdated(uri: string): void {
    if (this.subscriptions.has(uri)) this.notify("notifications/resources/updated", { uri });
    for (const [id, l] of this.#listens) {
      if (l.filter.resourceSubscriptions?.includes(uri)) {
        this.notify("notifications/resources/updated", { uri, _meta: { [META.subscriptionId]: id } });
      }
    }
  }

  /** @internal Opens a 2026-07-28 subscription stream; resolves with its result when it ends gracefully. */
  _listen(id: RequestId, filter: SubscriptionFilter): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const end = () => {
        if (this.#listens.delete(id)) resolve({ _meta: { [META.subscriptionId]: id } });
      };
      this.#listens.set(id, { filter, end });
      this.notify("notifications/subscriptions/acknowledged", {
        notifications: filter,
        _meta: { [META.subscriptionId]: id },
      });
    });
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
    const { signal, relatedTo } = options;
    const meta = relatedTo === undefined ? undefined : { relatedTo };
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
    const id = ++this.#nextId;
    const timeout = options.timeout ?? this.server.options.clientRequestTimeout;
    return new Promise((resolve, reject) => {
      const o: Outbound = {
        resolve,
        reject,
        timer: later(() => {
          this.#outbound.delete(id);
          o.cleanup?.();
          this.notify("notifications/cancelled", { requestId: id, reason: "timed out" }, relatedTo);
          reject(
            new McpError(
              ErrorCode.RequestTimeout,
              `Request timed out: the client did not answer ${method} within ${timeout} ms`,
            ),
          );
        }, timeout),
      };
      if (signal) {
        const onAbort = () => {
          if (!this.#outbound.delete(id)) return;
          clearTimeout(o.timer);
          this.notify("notifications/cancelled", { requestId: id, reason: "cancelled by the server" }, relatedTo);
          reject(signal.reason ?? new Error("aborted"));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        o.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.#outbound.set(id, o);
      this.#send(requestFrame(id, method, params), meta);
    });
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
    const params = elicitParams(message, schema, this.protocolVersion >= "2025-11-25");
    return elicitOutcome(schema, await this.request("elicitation/create", params, options));
  }

  /** Asks the client for its roots (`roots/list`). */
  async listRoots(options?: ClientRequestOptions): Promise<Root[]> {
    this.#requireCapability("roots", "roots/list");
    const res = await this.request("roots/list", undefined, options);
    if (!Array.isArray(res.roots)) {
      throw new McpError(ErrorCode.InvalidParams, "The client's roots/list answer has no roots array");
    }
    return res.roots as Root[];
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

  #batch(items: unknown[]): void {
    // Batches exist only in 2025-03-26 and 2024-11-05; initialize may not be batched.
    if (!this.ready || this.protocolVersion >= "2025-06-18" || items.length === 0) {
      const why = items.length === 0
        ? "an empty batch is not a valid request"
        : this.ready
        ? `JSON-RPC batches are not supported in protocol version ${this.protocolVersion}`
        : "JSON-RPC batches are not allowed before initialize";
      this.#send(errorFrame(null, { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${why}` }));
      return;
    }
    const outs = items.map((v) => {
      if (typeof v === "object" && v !== null && (v as Record<string, unknown>).method === "initialize") {
        const id = (v as Record<string, unknown>).id;
        return errorFrame(typeof id === "string" || typeof id === "number" ? id : null, {
          code: ErrorCode.InvalidRequest,
          message: "Invalid Request: initialize may not be part of a batch",
        });
      }
      return this.#handle(v);
    });
    const ids = items.map((v) => (v as { id?: unknown } | null)?.id)
      .filter((id): id is RequestId => typeof id === "string" || typeof id === "number");
    Promise.all(outs).then((frames) => {
      const present = frames.filter((f): f is string => f !== undefined);
      if (present.length) this.#send(`[${present.join(",")}]`, { responseTo: ids });
      else for (const id of ids) this.#noResponse(id);
    });
  }

  // Returns the response frame, a promise of it, or undefined (notification, cancelled request).
  #handle(value: unknown): string | Promise<string | undefined> | undefined {
    const c = classify(value);
    switch (c.kind) {
      case "request":
        return this.#request(c.msg);
      case "notification":
        this.#notification(c.msg);
        return undefined;
      case "response": {
        const o = this.#outbound.get(c.id);
        if (!o) return undefined; // late or unknown: the request already timed out or never existed
        this.#outbound.delete(c.id);
        clearTimeout(o.timer);
        o.cleanup?.();
        if (c.error) {
          o.reject(
            new McpError(
              Number(c.error.code) || ErrorCode.InternalError,
              String(c.error.message ?? "error"),
              c.error.data,
            ),
          );
        } else o.resolve(c.result!);
        return undefined;
      }
      case "invalid":
        return errorFrame(c.id, { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${c.reason}` });
      case "ignored":
        return undefined;
    }
  }

  #notification(msg: JsonRpcNotification): void {
    const p = msg.params ?? {};
    switch (msg.method) {
      case "notifications/cancelled": {
        const listen = this.#listens.get(p.requestId as RequestId);
        if (listen) return listen.end(); // a listen ends with its result, not in silence
        const f = this.#inflight.get(p.requestId as RequestId);
        if (!f) return;
        f.cancelled = true;
        (f.controller ??= new AbortController()).abort(
          new DOMException(typeof p.reason === "string" ? p.reason : "Cancelled by the client", "AbortError"),
        );
        return;
      }
      case "notifications/roots/list_changed":
        this.server.options.onRootsListChanged?.(this);
        return;
    }
  }

  #request(msg: JsonRpcRequest): string | Promise<string | undefined> {
    const { id, method } = msg;
    if (method === "ping") return resultFrame(id, {});
    if (method === "initialize") return this.#initialize(id, msg.params ?? {});
    const meta = msg.params?._meta as Record<string, unknown> | undefined;
    const requested = typeof meta === "object" && meta !== null ? meta[META.version] : undefined;
    let scope: Scope | undefined;
    if (requested !== undefined || method === "server/discover") {
      if (requested !== undefined && !PER_REQUEST_PROTOCOL_VERSIONS.includes(requested as string)) {
        return errorFrame(id, {
          code: ErrorCode.UnsupportedProtocolVersion,
          message: `Unsupported protocol version ${describe(requested)}; this server speaks ${
            PER_REQUEST_PROTOCOL_VERSIONS.join(", ")
          } per request, or ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")} through initialize`,
          data: { supported: [...PER_REQUEST_PROTOCOL_VERSIONS], requested: describe(requested) },
        });
      }
      scope = toScope(meta);
    } else if (!this.ready) {
      return errorFrame(id, {
        code: ErrorCode.InvalidRequest,
        message: `Invalid Request: send initialize before ${method}`,
      });
    }
    if (this.#draining) {
      return errorFrame(id, {
        code: ErrorCode.ConnectionClosed,
        message: "The server is shutting down and takes no new requests",
      });
    }
    if (this.#inflight.has(id)) {
      return errorFrame(id, {
        code: ErrorCode.InvalidRequest,
        message: `Invalid Request: a request with id ${JSON.stringify(id)} is already in flight`,
      });
    }
    if (this.#inflight.size >= this.server.options.maxInFlight) {
      return errorFrame(id, {
        code: ErrorCode.ServerBusy,
        message:
          `Too many requests in flight on this connection (at most ${this.server.options.maxInFlight}); wait for answers before sending more`,
      });
    }
    const route = scope ? MODERN_ROUTES[method] : ROUTES[method];
    if (!route) return errorFrame(id, { code: ErrorCode.MethodNotFound, message: `Method not found: ${method}` });
    const f: InFlight = { cancelled: false };
    const ctx = new Context(this, msg, f, scope);
    let out: unknown;
    try {
      out = scope ? modern(route, this.server, msg.params ?? {}, ctx) : route(this.server, msg.params ?? {}, ctx);
    } catch (err) {
      return errorFrame(id, toErrorObject(err));
    }
    // Synchronous handlers are answered at once: no promise, no bookkeeping.
    if (!isThenable(out)) return responseFrame(id, out);
    this.#inflight.set(id, f);
    const timeout = this.server.options.requestTimeout;
    return new Promise<string | undefined>((resolve) => {
      const finish = (frame: string | undefined) => {
        if (this.#inflight.get(id) !== f) return resolve(undefined); // closed, or timed out already
        this.#inflight.delete(id);
        if (f.timer) clearTimeout(f.timer);
        resolve(f.cancelled ? undefined : frame);
        this.#wakeIdle();
      };
      if (timeout > 0 && method !== "subscriptions/listen") {
        f.timer = later(() => {
          finish(
            errorFrame(id, {
              code: ErrorCode.RequestTimeout,
              message: `Request timed out: ${method} ran longer than ${timeout} ms`,
            }),
          );
          ctx._abort(new McpError(ErrorCode.RequestTimeout, `Request timed out after ${timeout} ms`));
        }, timeout);
      }
      (out as Promise<unknown>).then(
        (result) => finish(responseFrame(id, result)),
        (err) => finish(errorFrame(id, toErrorObject(err))),
      );
    });
  }

  #initialize(id: RequestId, params: Record<string, unknown>): string {
    if (this.ready) {
      return errorFrame(id, {
        code: ErrorCode.InvalidRequest,
        message: "Invalid Request: the session is already initialized",
      });
    }
    const requested = params.protocolVersion;
    if (typeof requested !== "string") {
      return errorFrame(id, {
        code: ErrorCode.InvalidParams,
        message: "Invalid params: initialize needs a protocolVersion string",
      });
    }
    this.protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
    const caps = params.capabilities;
    this.clientCapabilities = typeof caps === "object" && caps !== null && !Array.isArray(caps)
      ? caps as Record<string, unknown>
      : {};
    const info = params.clientInfo;
    if (typeof info === "object" && info !== null) this.clientInfo = info as Implementation;
    this.#advertised = this.server.capabilities;
    const result: Record<string, unknown> = {
      protocolVersion: this.protocolVersion,
      capabilities: this.#advertised,
      serverInfo: this.server.serverInfo,
    };
    if (this.server.options.instructions) result.instructions = this.server.options.instructions;
    return resultFrame(id, result);
  }
}

// An empty elicitation capability means form mode (2025-06-18 clients).
function supportsFormElicitation(caps: Record<string, unknown>): boolean {
  const e = caps.elicitation as Record<string, unknown> | undefined;
  return typeof e === "object" && e !== null && (e.form !== undefined || e.url === undefined);
}

function elicitParams(message: string, schema: StandardSchemaV1, withMode: boolean): Record<string, unknown> {
  assertSchema(schema, "elicitation schema");
  const requestedSchema = elicitationSchema(schema);
  return withMode ? { mode: "form", message, requestedSchema } : { message, requestedSchema };
}

async function elicitOutcome<S extends StandardSchemaV1>(
  schema: S,
  res: Record<string, unknown>,
): Promise<ElicitResult<InferOutput<S>>> {
  if (res.action === "accept") {
    const checked = await validate(schema, res.content ?? {});
    if (checked.issues) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `The client's answer does not match the requested schema: ${formatIssues(checked.issues)}`,
      );
    }
    return { action: "accept", content: checked.value as InferOutput<S> };
  }
  if (res.action === "decline" || res.action === "cancel") return { action: res.action };
  throw new McpError(
    ErrorCode.InvalidParams,
    `The client answered elicitation/create with an unknown action: ${describe(res.action)}`,
  );
}

/** What a 2026-07-28 request says about itself in `_meta`. */
interface Scope {
  version: string;
  caps: Record<string, unknown>;
  info?: Implementation;
  logLevel?: LoggingLevel;
}

function toScope(meta: Record<string, unknown> | undefined): Scope {
  const m = meta ?? {};
  const caps = m[META.caps];
  const info = m[META.info];
  const level = m[META.logLevel];
  return {
    version: typeof m[META.version] === "string" ? m[META.version] as string : PER_REQUEST_PROTOCOL_VERSIONS[0],
    caps: typeof caps === "object" && caps !== null && !Array.isArray(caps) ? caps as Record<string, unknown> : {},
    info: typeof info === "object" && info !== null ? info as Implementation : undefined,
    logLevel: typeof level === "string" && levelRank(level) >= 0 ? level as LoggingLevel : undefined,
  };
}

/** The 2026-07-28 subscription filter of `subscriptions/listen`. */
export interface SubscriptionFilter {
  /** Send `notifications/tools/list_changed`. */
  toolsListChanged?: boolean;
  /** Send `notifications/prompts/list_changed`. */
  promptsListChanged?: boolean;
  /** Send `notifications/resources/list_changed`. */
  resourcesListChanged?: boolean;
  /** Send `notifications/resources/updated` for these URIs. */
  resourceSubscriptions?: string[];
}

/** Multi round-trip bookkeeping of one 2026-07-28 request. */
interface Mrtr {
  responses: Record<string, unknown>;
  asked: Record<string, { method: string; params: Record<string, unknown> }>;
  next: number;
}

/** Thrown inside a handler when it needs input the client has not given yet. */
class InputRequired extends Error {
  constructor() {
    super("input required from the client");
    this.name = "InputRequired";
  }
}

/**
 * A timer for a limit in milliseconds; none for 0 or Infinity. setTimeout
 * fires at once beyond 2^31 - 1 ms, so longer limits are clamped to that.
 */
function later(fn: () => void, ms: number): ReturnType<typeof setTimeout> | undefined {
  return ms > 0 && ms !== Infinity ? setTimeout(fn, Math.min(ms, 2_147_483_647)) : undefined;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | null)?.then === "function";
}

/** Chains `f` after `v`, synchronously when `v` is not a promise. */
function then<T, R>(v: T | PromiseLike<T>, f: (v: T) => R | PromiseLike<R>): R | PromiseLike<R> {
  return isThenable(v) ? (v as PromiseLike<T>).then(f) : f(v as T);
}

// Routes return either a result object or an already-serialized JSON string (cached lists).
function responseFrame(id: RequestId, result: unknown): string {
  if (typeof result === "string") return `{"jsonrpc":"2.0","id":${idJson(id)},"result":${result}}`;
  try {
    return resultFrame(id, result);
  } catch (e) {
    // e.g. a BigInt or a cycle in a handler's result
    return errorFrame(id, {
      code: ErrorCode.InternalError,
      message: `Internal error: the result could not be serialized (${(e as Error).message})`,
    });
  }
}

function toErrorObject(err: unknown): JsonRpcErrorObject {
  if (err instanceof McpError) return err.toJSON();
  // Never leak a stack trace; the message is enough to act on.
  const message = err instanceof Error ? err.message : String(err);
  return { code: ErrorCode.InternalError, message: `Internal error: ${message}` };
}

// ---------------------------------------------------------------------------
// Context

/**
 * What a handler gets besides its arguments: cancellation, progress,
 * logging, and requests to the client.
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
  /** @internal The request's own protocol scope (2026-07-28), if it has one. */
  readonly _scope?: Scope;
  /** @internal Multi round-trip state (2026-07-28 tools/call, prompts/get, resources/read). */
  _mrtr?: Mrtr;
  #f: InFlight;
  #lastProgress = -Infinity;

  /** @internal */
  constructor(session: Session, msg: JsonRpcRequest, f: InFlight, scope?: Scope) {
    this.session = session;
    this.requestId = msg.id;
    this.method = msg.method;
    const meta = msg.params?._meta;
    this.meta = typeof meta === "object" && meta !== null ? meta as Record<string, unknown> : undefined;
    this._scope = scope;
    this.#f = f;
  }

  /** The protocol version of this request: its own (2026-07-28) or the session's. */
  get protocolVersion(): string {
    return this._scope?.version ?? this.session.protocolVersion;
  }

  /** The client's capabilities for this request: from its `_meta` (2026-07-28) or from `initialize`. */
  get clientCapabilities(): Record<string, unknown> {
    return this._scope?.caps ?? this.session.clientCapabilities;
  }

  /** The client's name and version, if it said. */
  get clientInfo(): Implementation | undefined {
    return this._scope ? this._scope.info : this.session.clientInfo;
  }

  /** Aborted when the client cancels, the connection closes, or the request times out. */
  get signal(): AbortSignal {
    // Created on first use: most handlers never look at it.
    return (this.#f.controller ??= new AbortController()).signal;
  }

  /** The result of the transport's `authenticate` hook. */
  get auth(): unknown {
    return this.session.auth;
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
    if (token === undefined || this.#f.cancelled) return;
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
    const scope = this._scope;
    if (!scope) return this.session.log(level, data, logger, this.requestId);
    if (levelRank(level) < 0) throw new RangeError(`unknown log level "${level}"`);
    if (!scope.logLevel || levelRank(level) < levelRank(scope.logLevel)) return;
    const params = logger === undefined ? { level, data } : { level, logger, data };
    this.session.notify("notifications/message", params, this.requestId);
  }

  /**
   * Asks the client's model for a completion; cancelled with this request.
   * Under 2026-07-28 this ends the call with `input_required` and resumes
   * when the client retries with the answer: the same code serves both.
   */
  sample(params: CreateMessageParams, options?: ClientRequestOptions): Promise<CreateMessageResult> {
    if (!this._scope) {
      return this.session.sample(params, { signal: this.signal, relatedTo: this.requestId, ...options });
    }
    this.#require("sampling", { sampling: {} }, "sampling/createMessage");
    return this.#ask("sampling/createMessage", params) as Promise<CreateMessageResult>;
  }

  /** Asks the user for input (form mode); see {@linkcode Session.elicit} and {@linkcode Context.sample}. */
  async elicit<S extends StandardSchemaV1>(
    message: string,
    schema: S,
    options?: ClientRequestOptions,
  ): Promise<ElicitResult<InferOutput<S>>> {
    if (!this._scope) {
      return await this.session.elicit(message, schema, { signal: this.signal, relatedTo: this.requestId, ...options });
    }
    if (!supportsFormElicitation(this._scope.caps)) {
      this.#require("", { elicitation: { form: {} } }, "elicitation/create");
    }
    return elicitOutcome(schema, await this.#ask("elicitation/create", elicitParams(message, schema, true)));
  }

  /** Asks the client for its roots; see {@linkcode Context.sample}. */
  async listRoots(options?: ClientRequestOptions): Promise<Root[]> {
    if (!this._scope) {
      return await this.session.listRoots({ signal: this.signal, relatedTo: this.requestId, ...options });
    }
    this.#require("roots", { roots: {} }, "roots/list");
    const res = await this.#ask("roots/list", {});
    if (!Array.isArray(res.roots)) {
      throw new McpError(ErrorCode.InvalidParams, "The client's roots/list answer has no roots array");
    }
    return res.roots as Root[];
  }

  #require(cap: string, required: Record<string, unknown>, method: string): void {
    if (cap && this._scope!.caps[cap]) return;
    throw new McpError(
      ErrorCode.MissingClientCapability,
      `${method} needs the client capability ${JSON.stringify(required)}, which this request did not declare`,
      { requiredCapabilities: required },
    );
  }

  // 2026-07-28: answered keys come back from the retry; the first unanswered one ends this round.
  #ask(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const m = this._mrtr;
    if (!m) {
      return Promise.reject(
        new McpError(
          ErrorCode.InvalidRequest,
          `${this.method} cannot ask the client for input under protocol ${this.protocolVersion}`,
        ),
      );
    }
    const key = String(m.next++);
    if (Object.hasOwn(m.responses, key)) return Promise.resolve(m.responses[key] as Record<string, unknown>);
    m.asked[key] = { method, params };
    return Promise.reject(new InputRequired());
  }

  /** @internal */
  _abort(reason: unknown): void {
    (this.#f.controller ??= new AbortController()).abort(reason);
  }
}

// ---------------------------------------------------------------------------
// Method handlers

type Route = (server: McpServer, params: Record<string, unknown>, ctx: Context) => unknown;

const invalid = (message: string) => new McpError(ErrorCode.InvalidParams, message);

function callTool(tool: ToolEntry, args: unknown, ctx: Context): unknown {
  let out: unknown;
  try {
    out = tool.handler(args as Record<string, unknown>, ctx);
  } catch (e) {
    return thrown(e);
  }
  return isThenable(out) ? out.then((o) => checkOutput(tool, o), thrown) : checkOutput(tool, out);
}

// A throwing handler is a tool error the model can read, not a protocol error.
function thrown(e: unknown): CallToolResult {
  if (e instanceof McpError && PROTOCOL_ERRORS.has(e.code)) throw e;
  return errorResult(e instanceof Error ? e.message : String(e));
}

// Errors a client must see as JSON-RPC errors even when a tool throws them.
const PROTOCOL_ERRORS = new Set<number>([ErrorCode.MissingClientCapability, -32042]);

function checkOutput(tool: ToolEntry, out: unknown): CallToolResult | string | PromiseLike<CallToolResult> {
  // The common case, text out and no output schema: serialize the result here. A string is cheaper to
  // stringify than the object around it, and responseFrame() and dress() take serialized results as they are.
  if (typeof out === "string" && !tool.output) return `{"content":[{"type":"text","text":${JSON.stringify(out)}}]}`;
  const result = toCallToolResult(out);
  if (!tool.output || result.isError) return result;
  const name = tool.def.name;
  if (result.structuredContent === undefined) {
    return errorResult(`Tool ${name} declares an output schema but returned no structured content (server bug)`);
  }
  return then(
    validate(tool.output, result.structuredContent),
    (checked) =>
      checked.issues
        ? errorResult(
          `Tool ${name} returned structured content that does not match its output schema (server bug): ${
            formatIssues(checked.issues)
          }`,
        )
        : result,
  );
}

function listResources(server: McpServer, p: Record<string, unknown>, ctx: Context): unknown {
  const lists = server._templateLists();
  if (!lists.length) return server._page("resources", p.cursor, () => server._listResources());
  // Template lists are dynamic: page over a fresh list, uncached.
  const offset = decodeCursor("resources", p.cursor);
  return Promise.all(lists.map((t) => t.list!(ctx))).then((extra) => {
    const all: unknown[] = [...server._listResources(), ...extra.flat()];
    const size = server.options.pageSize;
    const res: Record<string, unknown> = { resources: all.slice(offset, offset + size) };
    if (offset + size < all.length) res.nextCursor = encodeCursor("resources", offset + size);
    return res;
  });
}

function getPrompt(server: McpServer, p: Record<string, unknown>, ctx: Context): unknown {
  const prompt = server._prompt(p.name);
  if (!prompt) throw invalid(`Unknown prompt: ${describe(p.name)}`);
  const raw = p.arguments ?? {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw invalid("prompt arguments must be an object of strings");
  }
  const run = (args: unknown) =>
    then(prompt.handler(args as Record<string, string>, ctx), (out) => toPromptResult(out, prompt.def.description));
  if (!prompt.args) return run(raw);
  for (const a of prompt.def.arguments ?? []) {
    if (a.required && (raw as Record<string, unknown>)[a.name] === undefined) {
      throw invalid(`Missing required argument "${a.name}" for prompt ${prompt.def.name}`);
    }
  }
  return then(validate(prompt.args, raw), (checked) => {
    if (checked.issues) {
      throw invalid(`Invalid arguments for prompt ${prompt.def.name}: ${formatIssues(checked.issues)}`);
    }
    return run(checked.value);
  });
}

function complete(server: McpServer, p: Record<string, unknown>, ctx: Context): unknown {
  const ref = p.ref as Record<string, unknown> | undefined;
  const arg = p.argument as Record<string, unknown> | undefined;
  if (typeof ref !== "object" || ref === null) throw invalid("completion/complete needs a ref object");
  if (typeof arg !== "object" || arg === null || typeof arg.name !== "string" || typeof arg.value !== "string") {
    throw invalid("completion/complete needs argument { name, value } strings");
  }
  let completers: Record<string, Completer> | undefined;
  if (ref.type === "ref/prompt") {
    const prompt = server._prompt(ref.name);
    if (!prompt) throw invalid(`Unknown prompt: ${describe(ref.name)}`);
    completers = prompt.complete;
  } else if (ref.type === "ref/resource") {
    const tpl = server._template(ref.uri);
    if (!tpl) throw invalid(`Unknown resource template: ${describe(ref.uri)}`);
    completers = tpl.complete;
  } else {
    throw invalid(`Unknown completion ref type: ${describe(ref.type)}`);
  }
  // Own properties only: "constructor" or "__proto__" must not reach Object.prototype.
  const completer = completers && Object.hasOwn(completers, arg.name) ? completers[arg.name] : undefined;
  const context = (p.context as Record<string, unknown> | undefined)?.arguments;
  const args = (typeof context === "object" && context !== null ? context : {}) as Record<string, string>;
  return then(completer ? completer(arg.value, { arguments: args, ctx }) : [], (values) => {
    if (!Array.isArray(values)) throw new Error("a completer must return an array of strings");
    return { completion: { values: values.slice(0, 100), total: values.length, hasMore: values.length > 100 } };
  });
}

const ROUTES: Record<string, Route> = {
  __proto__: null as unknown as Route,

  "tools/list": (server, p) => server._page("tools", p.cursor, () => server._listTools()),

  "tools/call": (server, p, ctx) => {
    const tool = server._tool(p.name);
    if (!tool) throw invalid(`Unknown tool: ${describe(p.name)}`);
    const args = p.arguments ?? {};
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      return errorResult(`Invalid arguments for tool ${tool.def.name}: arguments must be an object`);
    }
    if (!tool.input) return callTool(tool, args, ctx);
    return then(
      validate(tool.input, args),
      (checked) =>
        checked.issues
          ? errorResult(`Invalid arguments for tool ${tool.def.name}: ${formatIssues(checked.issues)}`)
          : callTool(tool, checked.value, ctx),
    );
  },

  "resources/list": listResources,

  "resources/templates/list": (server, p) =>
    server._page("resources/templates", p.cursor, () => server._listTemplates()),

  "resources/read": (server, p, ctx) => {
    const uri = p.uri;
    if (typeof uri !== "string") throw invalid("resources/read needs a uri string");
    const found = server._findResource(uri);
    // 2026-07-28 retired -32002 in favour of -32602.
    const code = ctx._scope ? ErrorCode.InvalidParams : ErrorCode.ResourceNotFound;
    if (!found) throw new McpError(code, `Resource not found: ${uri}`, { uri });
    return then(found.read(ctx), (out) => {
      const result = toReadResult(uri, found.mimeType, out);
      return ctx._scope ? { ...(found.cache ?? DEFAULT_READ_CACHE), ...result } : result;
    });
  },

  "resources/subscribe": (_server, p, ctx) => {
    if (typeof p.uri !== "string") throw invalid("resources/subscribe needs a uri string");
    ctx.session.subscriptions.add(p.uri);
    return {};
  },

  "resources/unsubscribe": (_server, p, ctx) => {
    if (typeof p.uri !== "string") throw invalid("resources/unsubscribe needs a uri string");
    ctx.session.subscriptions.delete(p.uri);
    return {};
  },

  "prompts/list": (server, p) => server._page("prompts", p.cursor, () => server._listPrompts()),

  "prompts/get": getPrompt,

  "completion/complete": complete,

  "logging/setLevel": (_server, p, ctx) => {
    if (typeof p.level !== "string" || levelRank(p.level) < 0) {
      throw invalid(`Unknown log level ${describe(p.level)}; use one of ${LEVELS.join(", ")}`);
    }
    ctx.session.logLevel = p.level as LoggingLevel;
    return {};
  },
};

const DEFAULT_READ_CACHE: CacheHint = { ttlMs: 0, cacheScope: "private" };
const DEFAULT_LIST_CACHE: CacheHint = { ttlMs: 60_000, cacheScope: "private" };
const CACHED: Record<string, "discover" | "tools" | "prompts" | "resources" | "templates"> = {
  "server/discover": "discover",
  "tools/list": "tools",
  "prompts/list": "prompts",
  "resources/list": "resources",
  "resources/templates/list": "templates",
};
const LISTEN_FLAGS = ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] as const;

// 2026-07-28 has no session: no setLevel or subscribe, but discovery and listen streams.
const MODERN_ROUTES: Record<string, Route> = Object.assign(Object.create(null), ROUTES, {
  "server/discover": (server: McpServer) => {
    const res: Record<string, unknown> = {
      supportedVersions: [...PER_REQUEST_PROTOCOL_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS],
      capabilities: server.capabilities,
    };
    if (server.options.instructions) res.instructions = server.options.instructions;
    return res;
  },
  "subscriptions/listen": (_server: McpServer, p: Record<string, unknown>, ctx: Context) => {
    const f = p.notifications as Record<string, unknown> | undefined;
    if (typeof f !== "object" || f === null || Array.isArray(f)) {
      throw invalid("subscriptions/listen needs a notifications filter object");
    }
    const honoured: SubscriptionFilter = {};
    for (const k of LISTEN_FLAGS) if (f[k] === true) honoured[k] = true;
    if (f.resourceSubscriptions !== undefined) {
      const uris = f.resourceSubscriptions;
      if (!Array.isArray(uris) || !uris.every((u) => typeof u === "string")) {
        throw invalid("resourceSubscriptions must be an array of URI strings");
      }
      honoured.resourceSubscriptions = [...uris];
    }
    return ctx.session._listen(ctx.requestId, honoured);
  },
});
for (const m of ["logging/setLevel", "resources/subscribe", "resources/unsubscribe"]) delete MODERN_ROUTES[m];

const MRTR_METHODS = new Set(["tools/call", "prompts/get", "resources/read"]);

// Runs a route for a 2026-07-28 request and dresses its result: resultType, cache hints, serverInfo.
function modern(route: Route, server: McpServer, p: Record<string, unknown>, ctx: Context): unknown {
  if (MRTR_METHODS.has(ctx.method)) return roundTrip(route, server, p, ctx);
  return then(route(server, p, ctx), (r) => dress(server, ctx.method, r));
}

function roundTrip(route: Route, server: McpServer, p: Record<string, unknown>, ctx: Context): unknown {
  const sealer = server._sealer;
  let principal: string;
  try {
    principal = JSON.stringify(ctx.auth) ?? "";
  } catch {
    principal = String(ctx.auth);
  }
  // The digest is only needed to open a requestState or to seal one: most calls do neither. The
  // parts are serialized now, before the handler can touch the arguments.
  const parts = JSON.stringify([ctx.method, p.name ?? p.uri ?? null, p.arguments ?? null, principal]);
  let binding: string | undefined;
  const bind = async () => (binding ??= await sealer.bindingOf(parts));
  let given: Record<string, unknown> | undefined;
  if (p.inputResponses !== undefined) {
    const g = p.inputResponses;
    if (typeof g !== "object" || g === null || Array.isArray(g)) throw invalid("inputResponses must be an object");
    given = g as Record<string, unknown>;
  }
  // Runs the route with the answers so far; synchronous when the route is and nothing was asked.
  const run = (responses: Record<string, unknown>): unknown => {
    const mrtr: Mrtr = { responses, asked: {}, next: 0 };
    ctx._mrtr = mrtr;
    const asked = () => Object.keys(mrtr.asked).length > 0;
    const inputRequired = async () => {
      // Whatever the handler still runs belongs to a round that is over.
      ctx._abort(new DOMException("input required from the client", "AbortError"));
      const requestState = await sealer.seal({
        b: await bind(),
        r: responses,
        e: Date.now() + (server.options.requestStateTtl ?? 600_000),
      });
      return dress(server, ctx.method, { resultType: "input_required", inputRequests: mrtr.asked, requestState });
    };
    let out: unknown;
    try {
      out = route(server, p, ctx);
    } catch (e) {
      if (!asked()) throw e;
      return inputRequired();
    }
    if (!isThenable(out)) return asked() ? inputRequired() : dress(server, ctx.method, out);
    return Promise.resolve(out).then(
      (r) => (asked() ? inputRequired() : dress(server, ctx.method, r)),
      (e) => {
        if (!asked()) throw e;
        return inputRequired();
      },
    );
  };
  if (p.requestState === undefined) return run({ ...given });
  return bind().then((b) => sealer.open(p.requestState, b)).then((state) => run({ ...state.r, ...given }));
}

// serverInfo never changes after construction: its _meta is serialized once per server.
const infoMetaJson = new WeakMap<McpServer, string>();

function dress(server: McpServer, method: string, result: unknown): unknown {
  const kind = CACHED[method];
  const hint = kind ? server.options.cache?.[kind] ?? DEFAULT_LIST_CACHE : undefined;
  if (typeof result === "string") {
    // A cached list or a text tool result, already serialized: splice the extra fields in front.
    let meta = infoMetaJson.get(server);
    if (meta === undefined) infoMetaJson.set(server, meta = JSON.stringify({ [META.serverInfo]: server.serverInfo }));
    const extra = `"resultType":"complete",${
      hint ? `"ttlMs":${hint.ttlMs},"cacheScope":"${hint.cacheScope}",` : ""
    }"_meta":${meta}`;
    return result === "{}" ? `{${extra}}` : `{${extra},${result.slice(1)}`;
  }
  const info = { [META.serverInfo]: server.serverInfo };
  const r = { ...(result as Record<string, unknown>) };
  r.resultType ??= "complete";
  if (hint) (r.ttlMs ??= hint.ttlMs, r.cacheScope ??= hint.cacheScope);
  r._meta = { ...info, ...(r._meta as Record<string, unknown> | undefined) };
  return r;
}

// Names a client-sent value in an error message without serializing it: it may be huge or nested 100,000 deep.
function describe(v: unknown): string {
  if (typeof v === "string") return v.length > 100 ? `${v.slice(0, 100)}…` : v;
  if (v === null || typeof v !== "object") return String(v);
  return Array.isArray(v) ? "(an array)" : "(an object)";
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

const CONTENT_TYPES = new Set(["text", "image", "audio", "resource_link", "resource"]);

function isContent(v: unknown): v is ContentBlock {
  return typeof v === "object" && v !== null && CONTENT_TYPES.has((v as { type?: unknown }).type as string);
}

function toCallToolResult(out: unknown): CallToolResult {
  if (out === undefined || out === null) return { content: [] };
  if (typeof out === "string") return { content: [{ type: "text", text: out }] };
  if (typeof out !== "object") return { content: [{ type: "text", text: String(out) }] };
  if (Array.isArray(out)) {
    if (!out.every(isContent)) throw new Error("a tool returned an array that is not all content blocks");
    return { content: out };
  }
  if (isContent(out)) return { content: [out] };
  if (Array.isArray((out as CallToolResult).content)) return out as CallToolResult;
  // A plain object is structured output, with its JSON as the text fallback.
  return { content: [{ type: "text", text: JSON.stringify(out) }], structuredContent: out as Record<string, unknown> };
}

function toReadResult(uri: string, mimeType: string | undefined, out: ResourceReturn): ReadResourceResult {
  const one = (c: unknown): ResourceContents => {
    if (typeof c === "string") return mimeType ? { uri, mimeType, text: c } : { uri, text: c };
    if (c instanceof Uint8Array) return mimeType ? { uri, mimeType, blob: toBase64(c) } : { uri, blob: toBase64(c) };
    if (typeof c === "object" && c !== null && ("text" in c || "blob" in c)) {
      const r = c as Partial<ResourceContents> & { blob?: unknown };
      const blob = r.blob instanceof Uint8Array ? toBase64(r.blob) : r.blob;
      return strip({ ...r, uri: r.uri ?? uri, mimeType: r.mimeType ?? mimeType, blob }) as ResourceContents;
    }
    throw new Error("a resource reader must return text, bytes, contents objects or { contents }");
  };
  if (typeof out === "object" && out !== null && Array.isArray((out as ReadResourceResult).contents)) {
    return out as ReadResourceResult;
  }
  return { contents: Array.isArray(out) ? out.map(one) : [one(out)] };
}

function toPromptResult(out: PromptReturn, description?: string): GetPromptResult {
  let res: GetPromptResult;
  if (typeof out === "string") res = { messages: [{ role: "user", content: { type: "text", text: out } }] };
  else if (Array.isArray(out)) res = { messages: out };
  else if (typeof out === "object" && out !== null && Array.isArray(out.messages)) res = out;
  else throw new Error("a prompt handler must return text, messages or { messages }");
  if (description !== undefined && res.description === undefined) res = { description, ...res };
  return res;
}

function toBase64(bytes: Uint8Array): string {
  const native = (bytes as Uint8Array & { toBase64?: () => string }).toBase64;
  if (typeof native === "function") return native.call(bytes);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
