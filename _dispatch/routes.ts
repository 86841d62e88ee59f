// The method handlers: one route per MCP method a client may call once initialized. The
// 2026-07-28 table (_modern.ts) starts from this one.

import { ErrorCode, McpError } from "../jsonrpc.ts";
import { formatIssues, validate } from "../schema.ts";
import type { CallToolResult, LoggingLevel } from "../types.ts";
import type { Context } from "../context.ts";
import type { CacheHint, Completer } from "../server.ts";
import { decodeCursor, encodeCursor, type Registry, type ToolEntry } from "../_core/registry.ts";
import { errorResult, textToolResult, toCallToolResult, toPromptResult, toReadResult } from "./results.ts";
import { describe, invalid, isRecord, isThenable, levelRank, LEVELS, then } from "../_util/util.ts";
import { TASKS_EXTENSION, tasksOf, wireModernTask, wireTask } from "../_core/tasks.ts";
import { PER_REQUEST_PROTOCOL_VERSIONS } from "../versions.ts";

/** Handles one method: its result object, a serialized result, or a promise of either. */
export type Route = (reg: Registry, params: Record<string, unknown>, ctx: Context) => unknown;

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
const PROTOCOL_ERRORS = new Set<number>([
  ErrorCode.MissingClientCapability,
  ErrorCode.UrlElicitationRequired,
  ErrorCode.InsufficientScope,
]);

/** Refuses a call whose access token lacks a scope the tool needs; the error names what to ask for. */
function checkScopes(tool: ToolEntry, ctx: Context): void {
  const granted = (ctx.auth as { scopes?: unknown } | null | undefined)?.scopes;
  const has = Array.isArray(granted) ? granted : [];
  const missing = tool.scopes!.filter((s) => !has.includes(s));
  if (!missing.length) return;
  const many = missing.length > 1;
  const what = `${many ? "the scopes" : "the scope"} ${missing.join(" ")}`;
  const why = Array.isArray(granted)
    ? "which the access token does not grant"
    : "and this connection has no OAuth token";
  throw new McpError(
    ErrorCode.InsufficientScope,
    `Insufficient scope: tool ${tool.def.name} needs ${what}, ${why}; use a token that grants ${many ? "them" : "it"}`,
    { requiredScopes: [...tool.scopes!] },
  );
}

function checkOutput(tool: ToolEntry, out: unknown): CallToolResult | string | PromiseLike<CallToolResult> {
  // The common case, text out and no output schema, is serialized here; responseFrame() takes it as it is.
  if (typeof out === "string" && !tool.output) return textToolResult(out);
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

function listResources(reg: Registry, p: Record<string, unknown>, ctx: Context): unknown {
  const lists = reg.templateLists();
  if (!lists.length) return reg.page("resources", p.cursor, () => reg.listResources());
  // Template lists are dynamic: page over a fresh list, uncached.
  const offset = decodeCursor("resources", p.cursor);
  return Promise.all(lists.map((t) => t.list!(ctx))).then((extra) => {
    const all: unknown[] = [...reg.listResources(), ...extra.flat()];
    const size = reg.pageSize;
    const res: Record<string, unknown> = { resources: all.slice(offset, offset + size) };
    if (offset + size < all.length) res.nextCursor = encodeCursor("resources", offset + size);
    return res;
  });
}

/**
 * `resources/read`, with the error code for an unknown URI (2026-07-28 retired -32002 for -32602) and,
 * under 2026-07-28, the cache hint of the resource in front of the result.
 */
export function readResource(
  reg: Registry,
  p: Record<string, unknown>,
  ctx: Context,
  notFound: number,
  defaultCache?: CacheHint,
): unknown {
  const uri = p.uri;
  if (typeof uri !== "string") throw invalid("resources/read needs a uri string");
  const found = reg.findResource(uri);
  if (!found) throw new McpError(notFound, `Resource not found: ${uri}`, { uri });
  return then(found.read(ctx), (out) => {
    const result = toReadResult(uri, found.mimeType, out);
    return defaultCache ? { ...(found.cache ?? defaultCache), ...result } : result;
  });
}

function getPrompt(reg: Registry, p: Record<string, unknown>, ctx: Context): unknown {
  const prompt = reg.prompt(p.name);
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

function complete(reg: Registry, p: Record<string, unknown>, ctx: Context): unknown {
  const ref = p.ref as Record<string, unknown> | undefined;
  const arg = p.argument as Record<string, unknown> | undefined;
  if (typeof ref !== "object" || ref === null) throw invalid("completion/complete needs a ref object");
  if (typeof arg !== "object" || arg === null || typeof arg.name !== "string" || typeof arg.value !== "string") {
    throw invalid("completion/complete needs argument { name, value } strings");
  }
  let completers: Record<string, Completer> | undefined;
  if (ref.type === "ref/prompt") {
    const prompt = reg.prompt(ref.name);
    if (!prompt) throw invalid(`Unknown prompt: ${describe(ref.name)}`);
    completers = prompt.complete;
  } else if (ref.type === "ref/resource") {
    const tpl = reg.template(ref.uri);
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

function runTool(tool: ToolEntry, args: unknown, ctx: Context): unknown {
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
}

/**
 * Whether this call runs as a task, and in which era's shape: under 2025-11-25 when the client asks
 * (`params.task`), under 2026-07-28 when the client declares the extension; versions before either
 * have no tasks, so every call runs as a plain one there.
 */
function taskEra(tool: ToolEntry, p: Record<string, unknown>, ctx: Context): "session" | "modern" | undefined {
  const name = tool.def.name;
  if (PER_REQUEST_PROTOCOL_VERSIONS.includes(ctx.protocolVersion)) {
    const ext = ctx.clientCapabilities.extensions;
    const capable = isRecord(ext) && isRecord(ext[TASKS_EXTENSION]);
    if (tool.task === "required" && !capable) {
      throw new McpError(
        ErrorCode.MissingClientCapability,
        `Tool ${name} runs only as a task: declare the client capability extensions["${TASKS_EXTENSION}"]`,
        { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
      );
    }
    return capable && tool.task !== "forbidden" ? "modern" : undefined;
  }
  if (ctx.protocolVersion !== "2025-11-25") return undefined;
  if (p.task === undefined) {
    if (tool.task !== "required") return undefined;
    throw new McpError(
      ErrorCode.MethodNotFound,
      `Tool ${name} runs only as a task (execution.taskSupport is "required"): call it with params.task`,
    );
  }
  if (tool.task === "forbidden") {
    throw new McpError(ErrorCode.MethodNotFound, `Tool ${name} does not run as a task (no execution.taskSupport)`);
  }
  if (!isRecord(p.task)) throw invalid(`params.task must be an object, not ${describe(p.task)}`);
  return "session";
}

// The task methods of a session exist from 2025-11-25 on (2026-07-28 has its own, in _modern.ts).
function sessionTasks(ctx: Context, p: Record<string, unknown>): unknown {
  if (ctx.protocolVersion !== "2025-11-25") {
    throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${ctx.method} (protocol ${ctx.protocolVersion})`);
  }
  return p.taskId;
}

/** The routes of an initialized session, by method. */
export const ROUTES: Record<string, Route> = {
  __proto__: null as unknown as Route,

  "tools/list": (reg, p) => reg.page("tools", p.cursor, () => reg.listTools()),

  "tools/call": (reg, p, ctx) => {
    const tool = reg.tool(p.name);
    if (!tool) throw invalid(`Unknown tool: ${describe(p.name)}`);
    if (tool.scopes) checkScopes(tool, ctx);
    const args = p.arguments ?? {};
    // A server that offers no tasks ignores params.task, as 2025-11-25 asks.
    if (tool.task !== "forbidden" || (p.task !== undefined && reg.taskTools())) {
      const era = taskEra(tool, p, ctx);
      if (era) {
        return tasksOf(reg.server).start(
          ctx,
          (p.task as { ttl?: unknown } | undefined)?.ttl,
          (c) => runTool(tool, args, c),
        )
          .then((task) =>
            era === "modern" ? { resultType: "task", ...wireModernTask(task, false) } : { task: wireTask(task) }
          );
      }
    }
    return runTool(tool, args, ctx);
  },

  "tasks/get": (reg, p, ctx) => then(tasksOf(reg.server).find(sessionTasks(ctx, p), ctx), wireTask),

  "tasks/result": (reg, p, ctx) => tasksOf(reg.server).result(sessionTasks(ctx, p), ctx),

  "tasks/list": (reg, p, ctx) => (sessionTasks(ctx, {}), tasksOf(reg.server).list(p.cursor, ctx)),

  "tasks/cancel": (reg, p, ctx) => then(tasksOf(reg.server).cancel(sessionTasks(ctx, p), ctx, true), wireTask),

  "resources/list": listResources,

  "resources/templates/list": (reg, p) => reg.page("resources/templates", p.cursor, () => reg.listTemplates()),

  "resources/read": (reg, p, ctx) => readResource(reg, p, ctx, ErrorCode.ResourceNotFound),

  "resources/subscribe": (_reg, p, ctx) => {
    if (typeof p.uri !== "string") throw invalid("resources/subscribe needs a uri string");
    ctx.session.subscriptions.add(p.uri);
    return {};
  },

  "resources/unsubscribe": (_reg, p, ctx) => {
    if (typeof p.uri !== "string") throw invalid("resources/unsubscribe needs a uri string");
    ctx.session.subscriptions.delete(p.uri);
    return {};
  },

  "prompts/list": (reg, p) => reg.page("prompts", p.cursor, () => reg.listPrompts()),

  "prompts/get": getPrompt,

  "completion/complete": complete,

  "logging/setLevel": (_reg, p, ctx) => {
    if (typeof p.level !== "string" || levelRank(p.level) < 0) {
      throw invalid(`Unknown log level ${describe(p.level)}; use one of ${LEVELS.join(", ")}`);
    }
    ctx.session.logLevel = p.level as LoggingLevel;
    return {};
  },
};
