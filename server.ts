/**
 * {@linkcode McpServer}: what a server offers (tools, resources, templates
 * and prompts, with their schemas), the options it runs with, and what it
 * pushes to every client. Each connection gets a {@linkcode Session} from
 * {@linkcode McpServer.connect}; nothing here knows about transports.
 *
 * @module
 */

import { assertSchema, inputJsonSchema, outputJsonSchema } from "./schema.ts";
import type {
  Annotations,
  CallToolResult,
  ContentBlock,
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
  StandardSchemaV1,
  ToolAnnotations,
} from "./types.ts";
import type { Channel, SessionInit } from "./channel.ts";
import type { Context } from "./context.ts";
import { Session } from "./session.ts";
import { UriTemplate } from "./uri_template.ts";
import type { PromptEntry, Registry, ResourceEntry, TemplateEntry, ToolEntry } from "./_core/registry.ts";
import { ServerCore } from "./_core/core.ts";
import type { ClusterTransport } from "./cluster.ts";
import type { TaskOptions, TaskSupport } from "./tasks.ts";
import { checkTaskOptions } from "./_core/tasks.ts";
import { levelRank } from "./_util/log_levels.ts";
import { isScopeToken, strip } from "./_util/values.ts";

/** How long a client may cache a 2026-07-28 result, and whether caches may share it. */
export interface CacheHint {
  /** Milliseconds the result stays fresh; 0 means immediately stale. */
  ttlMs: number;
  /** `"private"`: only this client may reuse it; `"public"`: shared caches may too. */
  cacheScope: "public" | "private";
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * The core a server owns and hands to its sessions and transports: its
 * registry, fan-out, tasks, cluster node and state sealer. @internal
 */
export let coreOf: (server: McpServer) => ServerCore;

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
  /**
   * Run as one instance of several that act as one server: notifications
   * reach the sessions of every instance, and a Streamable HTTP request for a
   * session opened elsewhere is served by the instance that holds it. Give
   * every instance a transport over the same bus (`redisCluster()` or
   * `broadcastCluster()`; one per server) and the same `stateSecret`.
   * Instances of one server share its `name`. Default: this process alone.
   */
  cluster?: ClusterTransport;
  /**
   * How tasks are kept: the store (default in memory), time to live, poll
   * interval and how many may run at once per principal. Tools opt in to
   * tasks with their `task` option.
   */
  tasks?: TaskOptions;
  /** Milliseconds a `requestState` stays valid. Default 600,000 (10 minutes). */
  requestStateTtl?: number;
  /**
   * Cache hints on 2026-07-28 results, by list, read once per list when first
   * used. Default: lists and discovery `{ ttlMs: 60_000, cacheScope: "private" }`;
   * resource reads take theirs from the resource's `cache` (default
   * `{ ttlMs: 0, cacheScope: "private" }`).
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
  /**
   * Whether a call may run as a task: answered at once with a task the
   * client polls (`tasks/get`), while the handler runs on. `"optional"`: as
   * the client asks (2025-11-25 `params.task`; under 2026-07-28, whenever the
   * client declares the tasks extension); `"required"`: always. The handler
   * is the same either way. Default `"forbidden"`.
   */
  task?: TaskSupport;
  /** Icons for display. */
  icons?: Icon[];
  /** Metadata. */
  _meta?: Meta;
  /**
   * OAuth scopes the caller's access token must grant (see
   * `oauthResource`). A call without them is refused with
   * `ErrorCode.InsufficientScope` (over HTTP: 403 and a scope challenge, so
   * the client can step up). A connection with no scopes at all (no OAuth
   * token, or stdio) is refused too. Not shown in `tools/list`.
   */
  scopes?: readonly string[];
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
  readonly sessions: Set<Session>;

  #core: ServerCore;
  #registry: Registry;

  static {
    coreOf = (server) => server.#core;
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
    checkTaskOptions(options.tasks);
    if (levelRank(this.options.logLevel) < 0) throw new RangeError(`unknown logLevel "${this.options.logLevel}"`);
    const secret = options.stateSecret;
    // An empty or short secret (an unset variable read as "") would sign states anyone can forge.
    if (secret !== undefined && (typeof secret === "string" ? new TextEncoder().encode(secret) : secret).length < 16) {
      throw new RangeError("stateSecret must be at least 16 bytes (32 random bytes recommended)");
    }
    const { name, version, title, description, icons, websiteUrl } = options;
    const serverInfo = strip({ name, version, title, description, icons, websiteUrl });
    this.#core = new ServerCore(this, this.options, serverInfo);
    this.#registry = this.#core.registry;
    this.sessions = this.#core.fanout.sessions;
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
    const { input, output, title, description, annotations, task, icons, _meta, scopes } = definition ?? {};
    if (task !== undefined && task !== "forbidden" && task !== "optional" && task !== "required") {
      throw new TypeError(
        `tool "${name}": task must be "forbidden", "optional" or "required", not ${JSON.stringify(task)}`,
      );
    }
    if (scopes !== undefined && (!Array.isArray(scopes) || !scopes.every(isScopeToken))) {
      throw new TypeError(`scopes of tool "${name}" must be an array of OAuth scope names (no spaces or quotes)`);
    }
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
    const execution = task ? { taskSupport: task } : undefined;
    const entry: ToolEntry = {
      def: strip({ name, title, description, inputSchema, outputSchema, annotations, execution, icons, _meta }),
      input,
      output,
      handler: handler as ToolEntry["handler"],
      task: task ?? "forbidden",
      scopes: scopes?.length ? Object.freeze([...scopes]) : undefined,
      enabled: true,
    };
    return this.#registry.register("tools", this.#registry.tools, name, entry, `tool "${name}"`);
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
    return this.#registry.register("resources", this.#registry.resources, uri, entry, `resource "${uri}"`);
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
    return this.#registry.register(
      "resources",
      this.#registry.templates,
      template,
      entry,
      `resource template "${template}"`,
    );
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
    return this.#registry.register("prompts", this.#registry.prompts, name, entry, `prompt "${name}"`);
  }

  /** Sends `notifications/resources/updated` to every session subscribed to `uri`. */
  resourceUpdated(uri: string): void {
    this.#core.fanout.resourceUpdated(uri);
  }

  /** Sends a log message to every session whose level lets it through. */
  log(level: LoggingLevel, data: unknown, logger?: string): void {
    this.#core.fanout.log(level, data, logger);
  }

  /** Capabilities as sent in the `initialize` result. */
  get capabilities(): Record<string, unknown> {
    return this.#core.capabilities();
  }

  /** `serverInfo` as sent in the `initialize` result. */
  get serverInfo(): Implementation {
    return this.#core.serverInfo;
  }

  /**
   * Opens a session on a channel: the transport calls this once per
   * connection, feeds each incoming text message to
   * {@linkcode Session.receive} (or each parsed message to
   * {@linkcode Session.dispatch}), and calls {@linkcode Session.closed} when
   * the connection ends. See `channel.ts` for the contract.
   *
   * @example A transport in a few lines: one JSON-RPC message per line of text
   * ```ts
   * import { McpServer } from "./mod.ts";
   * const server = new McpServer({ name: "demo", version: "1.0.0" });
   * const session = server.connect({
   *   send: (text) => console.log(text),
   *   close: () => session.closed(),
   * });
   * session.receive('{"jsonrpc":"2.0","id":1,"method":"ping"}');
   * ```
   */
  connect(channel: Channel, init: SessionInit = {}): Session {
    const session = new Session(this.#core, channel, init);
    this.sessions.add(session);
    return session;
  }
}
