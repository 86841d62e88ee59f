// The method handlers: one route per MCP method a client may call once initialized (tools/call in
// tools.ts). The per-request table (per_request_routes.ts) starts from this one.

import { ErrorCode, McpError } from "../jsonrpc.ts";
import { formatIssues, validate } from "../schema.ts";
import type { LoggingLevel } from "../types.ts";
import type { Context } from "../context.ts";
import type { CacheHint, Completer } from "../server.ts";
import type { ServerCore } from "../_core/core.ts";
import { decodeCursor, pageOf } from "../_core/paging.ts";
import { wireTask } from "../_core/tasks.ts";
import { callToolRoute } from "./tools.ts";
import { toPromptResult, toReadResult } from "./results.ts";
import { hasSessionTasks } from "../versions.ts";
import { levelRank, LEVELS } from "../_util/log_levels.ts";
import { describe, invalid, then } from "../_util/values.ts";

/** Handles one method: its result object, a serialized result, or a promise of either. */
export type Route = (core: ServerCore, params: Record<string, unknown>, ctx: Context) => unknown;

function listResources(core: ServerCore, p: Record<string, unknown>, ctx: Context): unknown {
  const reg = core.registry;
  const lists = reg.templateLists();
  if (!lists.length) return reg.page("resources", p.cursor, () => reg.listResources());
  // Template lists are dynamic: page over a fresh list, uncached.
  const offset = decodeCursor("resources", p.cursor);
  return Promise.all(lists.map((t) => t.list!(ctx))).then((extra) =>
    pageOf("resources", "resources", [...reg.listResources(), ...extra.flat()], offset, reg.pageSize)
  );
}

/**
 * `resources/read`, with the error code for an unknown URI (2026-07-28 retired -32002 for -32602) and,
 * under 2026-07-28, the cache hint of the resource in front of the result.
 */
export function readResource(
  core: ServerCore,
  p: Record<string, unknown>,
  ctx: Context,
  notFound: number,
  defaultCache?: CacheHint,
): unknown {
  const uri = p.uri;
  if (typeof uri !== "string") throw invalid("resources/read needs a uri string");
  const found = core.registry.findResource(uri);
  if (!found) throw new McpError(notFound, `Resource not found: ${uri}`, { uri });
  return then(found.read(ctx), (out) => {
    const result = toReadResult(uri, found.mimeType, out);
    return defaultCache ? { ...(found.cache ?? defaultCache), ...result } : result;
  });
}

function getPrompt(core: ServerCore, p: Record<string, unknown>, ctx: Context): unknown {
  const prompt = core.registry.prompt(p.name);
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

function complete(core: ServerCore, p: Record<string, unknown>, ctx: Context): unknown {
  const reg = core.registry;
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

// The task methods of a session are 2025-11-25's (the per-request era has its own, in per_request_routes.ts).
function sessionTasks(ctx: Context, p: Record<string, unknown>): unknown {
  if (!hasSessionTasks(ctx.protocolVersion)) {
    throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${ctx.method} (protocol ${ctx.protocolVersion})`);
  }
  return p.taskId;
}

/** The routes of an initialized session, by method. */
export const ROUTES: Record<string, Route> = {
  __proto__: null as unknown as Route,

  "tools/list": ({ registry: reg }, p) => reg.page("tools", p.cursor, () => reg.listTools()),

  "tools/call": callToolRoute,

  "tasks/get": ({ tasks }, p, ctx) => then(tasks.find(sessionTasks(ctx, p), ctx), wireTask),

  "tasks/result": ({ tasks }, p, ctx) => tasks.result(sessionTasks(ctx, p), ctx),

  "tasks/list": ({ tasks }, p, ctx) => (sessionTasks(ctx, {}), tasks.list(p.cursor, ctx)),

  "tasks/cancel": ({ tasks }, p, ctx) => then(tasks.cancel(sessionTasks(ctx, p), ctx, true), wireTask),

  "resources/list": listResources,

  "resources/templates/list": ({ registry: reg }, p) =>
    reg.page("resources/templates", p.cursor, () => reg.listTemplates()),

  "resources/read": (core, p, ctx) => readResource(core, p, ctx, ErrorCode.ResourceNotFound),

  "resources/subscribe": (_core, p, ctx) => {
    if (typeof p.uri !== "string") throw invalid("resources/subscribe needs a uri string");
    ctx.session.subscriptions.add(p.uri);
    return {};
  },

  "resources/unsubscribe": (_core, p, ctx) => {
    if (typeof p.uri !== "string") throw invalid("resources/unsubscribe needs a uri string");
    ctx.session.subscriptions.delete(p.uri);
    return {};
  },

  "prompts/list": ({ registry: reg }, p) => reg.page("prompts", p.cursor, () => reg.listPrompts()),

  "prompts/get": getPrompt,

  "completion/complete": complete,

  "logging/setLevel": (_core, p, ctx) => {
    if (typeof p.level !== "string" || levelRank(p.level) < 0) {
      throw invalid(`Unknown log level ${describe(p.level)}; use one of ${LEVELS.join(", ")}`);
    }
    ctx.session.logLevel = p.level as LoggingLevel;
    return {};
  },
};
