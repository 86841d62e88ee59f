// Protocol 2026-07-28 in the dispatcher: no initialize and no session state. Each request names its
// version, the client's capabilities and its log level in `_meta` (its Scope); results say they are
// complete and carry cache hints and serverInfo; `subscriptions/listen` opens a notification stream;
// and a handler that asks the client for input ends the call with `input_required`, to be resumed
// by a retry that carries the answers and a sealed `requestState` (multi round trip).

import { ErrorCode, type JsonRpcRequest, McpError, type RequestId } from "../jsonrpc.ts";
import type {
  CreateMessageParams,
  CreateMessageResult,
  ElicitResult,
  Implementation,
  InferOutput,
  LoggingLevel,
  Root,
  StandardSchemaV1,
} from "../types.ts";
import { Context, inFlight } from "../context.ts";
import type { Session } from "../session.ts";
import type { CacheHint, McpServer } from "../server.ts";
import { fanoutOf, type SubscriptionFilter } from "../_core/fanout.ts";
import type { Registry } from "../_core/registry.ts";
import { readResource, type Route, ROUTES } from "./routes.ts";
import {
  elicitOutcome,
  elicitParams,
  rootsOf,
  supportsFormElicitation,
  supportsUrlElicitation,
  urlElicitation,
  urlElicitParams,
  urlOutcome,
} from "./elicitation.ts";
import { type ElicitUrlOptions, UrlElicitationRequiredError, type UrlElicitResult } from "../url_elicitation.ts";
import { type ErrorResponse, errorResponse } from "./results.ts";
import { describe, invalid, isRecord, isThenable, levelRank, principalOf, then } from "../_util/util.ts";
import { META, PER_REQUEST_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS } from "../versions.ts";
import { StateSealer } from "../request_state.ts";
import { type Live, type TaskManager, TASKS_EXTENSION, tasksOf, wireModernTask } from "../_core/tasks.ts";

/** What a 2026-07-28 request says about itself in `_meta`. */
interface Scope {
  version: string;
  caps: Record<string, unknown>;
  info?: Implementation;
  logLevel?: LoggingLevel;
}

function toScope(meta: unknown): Scope {
  const m = isRecord(meta) ? meta : {};
  const caps = m[META.caps];
  const info = m[META.info];
  const level = m[META.logLevel];
  return {
    version: typeof m[META.version] === "string" ? m[META.version] as string : PER_REQUEST_PROTOCOL_VERSIONS[0],
    caps: isRecord(caps) ? caps : {},
    info: typeof info === "object" && info !== null ? info as Implementation : undefined,
    logLevel: typeof level === "string" && levelRank(level) >= 0 ? level as LoggingLevel : undefined,
  };
}

/** The error for a request naming a per-request version this server does not speak, or undefined. */
export function unsupportedVersion(id: RequestId, requested: unknown): ErrorResponse | undefined {
  if (requested === undefined || PER_REQUEST_PROTOCOL_VERSIONS.includes(requested as string)) return undefined;
  return errorResponse(id, {
    code: ErrorCode.UnsupportedProtocolVersion,
    message: `Unsupported protocol version ${describe(requested)}; this server speaks ${
      PER_REQUEST_PROTOCOL_VERSIONS.join(", ")
    } per request, or ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")} through initialize`,
    data: { supported: [...PER_REQUEST_PROTOCOL_VERSIONS], requested: describe(requested) },
  });
}

/** Multi round-trip bookkeeping of one request: the answers given so far, the questions asked in this round. */
interface Round {
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

/** The handler context of a 2026-07-28 request: everything comes from the request, nothing from a session. */
export class ModernContext extends Context {
  readonly scope: Scope;
  round?: Round;

  constructor(session: Session, msg: JsonRpcRequest) {
    super(session, msg);
    this.scope = toScope(this.meta);
  }

  override get protocolVersion(): string {
    return this.scope.version;
  }

  override get clientCapabilities(): Record<string, unknown> {
    return this.scope.caps;
  }

  override get clientInfo(): Implementation | undefined {
    return this.scope.info;
  }

  override log(level: LoggingLevel, data: unknown, logger?: string): void {
    if (levelRank(level) < 0) throw new RangeError(`unknown log level "${level}"`);
    const min = this.scope.logLevel;
    if (!min || levelRank(level) < levelRank(min)) return;
    const params = logger === undefined ? { level, data } : { level, logger, data };
    this.session.notify("notifications/message", params, this.requestId);
  }

  override sample(params: CreateMessageParams): Promise<CreateMessageResult> {
    this.#require("sampling", { sampling: {} }, "sampling/createMessage");
    return this.ask("sampling/createMessage", params) as Promise<CreateMessageResult>;
  }

  override async elicit<S extends StandardSchemaV1>(message: string, schema: S): Promise<ElicitResult<InferOutput<S>>> {
    if (!supportsFormElicitation(this.scope.caps)) {
      this.#require("", { elicitation: { form: {} } }, "elicitation/create");
    }
    return elicitOutcome(schema, await this.ask("elicitation/create", elicitParams(message, schema, true)));
  }

  override async elicitUrl(message: string, url: string, options?: ElicitUrlOptions): Promise<UrlElicitResult> {
    const e = urlElicitation(message, url, options?.elicitationId);
    if (!supportsUrlElicitation(this.scope.caps)) throw missingUrlElicitation();
    const res = await this.ask("elicitation/create", urlElicitParams(e, false));
    return { action: urlOutcome(res), elicitationId: e.elicitationId };
  }

  override async listRoots(): Promise<Root[]> {
    this.#require("roots", { roots: {} }, "roots/list");
    return rootsOf<Root>(await this.ask("roots/list", {}));
  }

  #require(cap: string, required: Record<string, unknown>, method: string): void {
    if (cap && this.scope.caps[cap]) return;
    throw new McpError(
      ErrorCode.MissingClientCapability,
      `${method} needs the client capability ${JSON.stringify(required)}, which this request did not declare`,
      { requiredCapabilities: required },
    );
  }

  /** The task context of a task started from this request. @internal */
  forTask(live: Live, tasks: TaskManager): Context {
    return new ModernTaskContext(this, live, tasks);
  }

  // Answered keys come back with the retry; the first unanswered one ends this round.
  protected ask(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const m = this.round;
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
}

/**
 * The handler context of a 2026-07-28 task: the request's scope, the task's signal, and questions
 * to the client that wait in the task's inputRequests for tasks/update. The extension carries no
 * progress or log messages for tasks.
 */
class ModernTaskContext extends ModernContext {
  readonly #live: Live;
  readonly #tasks: TaskManager;

  constructor(origin: ModernContext, live: Live, tasks: TaskManager) {
    super(origin.session, {
      jsonrpc: "2.0",
      id: origin.requestId,
      method: origin.method,
      params: origin.meta ? { _meta: origin.meta } : undefined,
    });
    (this as { auth: unknown }).auth = origin.auth;
    this.#live = live;
    this.#tasks = tasks;
  }

  override get signal(): AbortSignal {
    return this.#live.controller.signal;
  }

  override get taskId(): string {
    return this.#live.record.taskId;
  }

  override progress(): void {}

  override log(level: LoggingLevel): void {
    if (levelRank(level) < 0) throw new RangeError(`unknown log level "${level}"`);
  }

  protected override ask(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.#tasks.ask(this.#live, method, params);
  }
}

// The extension's methods need the client to declare it on each request.
function requireTasks(ctx: Context): void {
  const ext = ctx.clientCapabilities.extensions;
  if (isRecord(ext) && isRecord(ext[TASKS_EXTENSION])) return;
  throw new McpError(
    ErrorCode.MissingClientCapability,
    `${ctx.method} needs the client capability extensions["${TASKS_EXTENSION}"], which this request did not declare`,
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
  );
}

function missingUrlElicitation(): McpError {
  const required = { elicitation: { url: {} } };
  return new McpError(
    ErrorCode.MissingClientCapability,
    `URL elicitation needs the client capability ${JSON.stringify(required)}, which this request did not declare`,
    { requiredCapabilities: required },
  );
}

// 2026-07-28 has no error -32042: a handler's UrlElicitationRequiredError becomes a round of URL elicitations
// (keyed apart from the numbered questions of ask), and the retry runs the handler again.
function askUrls(ctx: ModernContext, round: Round, e: unknown): boolean {
  if (!(e instanceof UrlElicitationRequiredError)) return false;
  if (!supportsUrlElicitation(ctx.scope.caps)) throw missingUrlElicitation();
  for (const el of e.elicitations) {
    round.asked[`url:${el.elicitationId}`] = { method: "elicitation/create", params: urlElicitParams(el, false) };
  }
  return true;
}

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

/** The routes of 2026-07-28: no setLevel or subscribe (no session), but discovery and listen streams. */
export const MODERN_ROUTES: Record<string, Route> = Object.assign(Object.create(null), ROUTES, {
  "server/discover": (reg: Registry) => {
    const server = reg.server;
    // 2025-11-25's tasks capability becomes the extension here.
    const { tasks, ...capabilities } = server.capabilities;
    if (tasks) capabilities.extensions = { [TASKS_EXTENSION]: {} };
    const res: Record<string, unknown> = {
      supportedVersions: [...PER_REQUEST_PROTOCOL_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS],
      capabilities,
    };
    if (server.options.instructions) res.instructions = server.options.instructions;
    return res;
  },
  "resources/read": (reg: Registry, p: Record<string, unknown>, ctx: Context) =>
    readResource(reg, p, ctx, ErrorCode.InvalidParams, DEFAULT_READ_CACHE),
  "subscriptions/listen": (reg: Registry, p: Record<string, unknown>, ctx: Context) => {
    const f = p.notifications;
    if (!isRecord(f)) throw invalid("subscriptions/listen needs a notifications filter object");
    const honoured: SubscriptionFilter = {};
    for (const k of LISTEN_FLAGS) if (f[k] === true) honoured[k] = true;
    if (f.resourceSubscriptions !== undefined) {
      const uris = f.resourceSubscriptions;
      if (!Array.isArray(uris) || !uris.every((u) => typeof u === "string")) {
        throw invalid("resourceSubscriptions must be an array of URI strings");
      }
      honoured.resourceSubscriptions = [...uris];
    }
    return fanoutOf(reg.server).listen(ctx.session, ctx.requestId, honoured);
  },
});
Object.assign(MODERN_ROUTES, {
  "tasks/get": (reg: Registry, p: Record<string, unknown>, ctx: Context) => {
    requireTasks(ctx);
    return tasksOf(reg.server).find(p.taskId, ctx).then((task) => wireModernTask(task, true));
  },
  "tasks/update": (reg: Registry, p: Record<string, unknown>, ctx: Context) => {
    requireTasks(ctx);
    return tasksOf(reg.server).update(p.taskId, p.inputResponses, ctx).then(() => ({}));
  },
  "tasks/cancel": (reg: Registry, p: Record<string, unknown>, ctx: Context) => {
    requireTasks(ctx);
    return tasksOf(reg.server).cancel(p.taskId, ctx, false).then(() => ({}));
  },
});
for (const m of ["logging/setLevel", "resources/subscribe", "resources/unsubscribe", "tasks/result", "tasks/list"]) {
  delete MODERN_ROUTES[m];
}

const ROUND_TRIP_METHODS = new Set(["tools/call", "prompts/get", "resources/read"]);

/** Runs a route for a 2026-07-28 request and dresses its result: resultType, cache hints, serverInfo. */
export function runModern(route: Route, reg: Registry, p: Record<string, unknown>, ctx: ModernContext): unknown {
  if (ROUND_TRIP_METHODS.has(ctx.method)) return roundTrip(route, reg, p, ctx);
  return then(route(reg, p, ctx), (r) => dress(reg.server, ctx.method, r));
}

// Signs request states; made on first use, one per server.
const sealers = new WeakMap<McpServer, StateSealer>();

function sealerOf(server: McpServer): StateSealer {
  let s = sealers.get(server);
  if (!s) sealers.set(server, s = new StateSealer(server.options.stateSecret));
  return s;
}

function roundTrip(route: Route, reg: Registry, p: Record<string, unknown>, ctx: ModernContext): unknown {
  const server = reg.server;
  const sealer = sealerOf(server);
  const principal = principalOf(ctx.auth);
  // The digest is only needed to open a requestState or to seal one: most calls do neither. The
  // parts are serialized now, before the handler can touch the arguments.
  const parts = JSON.stringify([ctx.method, p.name ?? p.uri ?? null, p.arguments ?? null, principal]);
  let binding: string | undefined;
  const bind = async () => (binding ??= await sealer.bindingOf(parts));
  let given: Record<string, unknown> | undefined;
  if (p.inputResponses !== undefined) {
    if (!isRecord(p.inputResponses)) throw invalid("inputResponses must be an object");
    given = p.inputResponses;
  }
  // Runs the route with the answers so far; synchronous when the route is and nothing was asked.
  const run = (responses: Record<string, unknown>): unknown => {
    const round: Round = { responses, asked: {}, next: 0 };
    ctx.round = round;
    const asked = () => Object.keys(round.asked).length > 0;
    const inputRequired = async () => {
      // Whatever the handler still runs belongs to a round that is over.
      inFlight.abort(ctx, new DOMException("input required from the client", "AbortError"));
      const requestState = await sealer.seal({
        b: await bind(),
        r: responses,
        e: Date.now() + (server.options.requestStateTtl ?? 600_000),
      });
      return dress(server, ctx.method, { resultType: "input_required", inputRequests: round.asked, requestState });
    };
    let out: unknown;
    try {
      out = route(reg, p, ctx);
    } catch (e) {
      if (!askUrls(ctx, round, e) && !asked()) throw e;
      return inputRequired();
    }
    if (!isThenable(out)) return asked() ? inputRequired() : dress(server, ctx.method, out);
    return Promise.resolve(out).then(
      (r) => (asked() ? inputRequired() : dress(server, ctx.method, r)),
      (e) => {
        if (!askUrls(ctx, round, e) && !asked()) throw e;
        return inputRequired();
      },
    );
  };
  if (p.requestState === undefined) return run({ ...given });
  return bind().then((b) => sealer.open(p.requestState, b)).then((state) => run({ ...state.r, ...given }));
}

// serverInfo and the cache options never change after construction: the fields a serialized result gets
// are built once per server and method.
const prefixes = new WeakMap<McpServer, Map<string, string>>();

function prefixOf(server: McpServer, method: string, hint: CacheHint | undefined): string {
  let byMethod = prefixes.get(server);
  if (!byMethod) prefixes.set(server, byMethod = new Map());
  let prefix = byMethod.get(method);
  if (prefix === undefined) {
    const meta = JSON.stringify({ [META.serverInfo]: server.serverInfo });
    prefix = `"resultType":"complete",${
      hint ? `"ttlMs":${hint.ttlMs},"cacheScope":"${hint.cacheScope}",` : ""
    }"_meta":${meta}`;
    byMethod.set(method, prefix);
  }
  return prefix;
}

function dress(server: McpServer, method: string, result: unknown): unknown {
  const kind = CACHED[method];
  const hint = kind ? server.options.cache?.[kind] ?? DEFAULT_LIST_CACHE : undefined;
  if (typeof result === "string") {
    // A cached list or a text tool result, already serialized: splice the extra fields in front.
    const extra = prefixOf(server, method, hint);
    return result === "{}" ? `{${extra}}` : `{${extra},${result.slice(1)}`;
  }
  const info = { [META.serverInfo]: server.serverInfo };
  const r = { ...(result as Record<string, unknown>) };
  r.resultType ??= "complete";
  if (hint) (r.ttlMs ??= hint.ttlMs, r.cacheScope ??= hint.cacheScope);
  r._meta = { ...info, ...(r._meta as Record<string, unknown> | undefined) };
  return r;
}
