// tools/call in the dispatcher: finding the tool, its scopes, its arguments and its output checked
// against their schemas, a throwing handler turned into a tool error, and whether the call runs as
// a task (and in which era's shape).

import { ErrorCode, McpError } from "../jsonrpc.ts";
import { formatIssues, validate } from "../schema.ts";
import type { CallToolResult } from "../types.ts";
import type { Context } from "../context.ts";
import type { ServerCore } from "../_core/core.ts";
import type { ToolEntry } from "../_core/registry.ts";
import { TASKS_EXTENSION, wirePerRequestTask, wireTask } from "../_core/tasks.ts";
import { startTask } from "./task_context.ts";
import { errorResult, textToolResult, toCallToolResult } from "./results.ts";
import { hasSessionTasks, isPerRequest } from "../versions.ts";
import { describe, invalid, isRecord, isThenable, then } from "../_util/values.ts";

/** `tools/call`. */
export function callToolRoute(core: ServerCore, p: Record<string, unknown>, ctx: Context): unknown {
  const tool = core.registry.tool(p.name);
  if (!tool) throw invalid(`Unknown tool: ${describe(p.name)}`);
  if (tool.scopes) checkScopes(tool, ctx);
  const args = p.arguments ?? {};
  // A server that offers no tasks ignores params.task, as 2025-11-25 asks.
  if (tool.task !== "forbidden" || (p.task !== undefined && core.registry.taskTools())) {
    const era = taskEra(tool, p, ctx);
    if (era) {
      const ttl = (p.task as { ttl?: unknown } | undefined)?.ttl;
      return startTask(core, ctx, ttl, (c) => runTool(tool, args, c)).then((task) =>
        era === "perRequest" ? { resultType: "task", ...wirePerRequestTask(task, false) } : { task: wireTask(task) }
      );
    }
  }
  return runTool(tool, args, ctx);
}

/** Whether the request's client declares the tasks extension (per-request era). */
function declaresTasks(ctx: Context): boolean {
  const ext = ctx.clientCapabilities.extensions;
  return isRecord(ext) && isRecord(ext[TASKS_EXTENSION]);
}

function missingTasksExtension(message: string): McpError {
  return new McpError(ErrorCode.MissingClientCapability, message, {
    requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
  });
}

/** The tasks extension's methods need the client to declare it on each request. */
export function requireTasks(ctx: Context): void {
  if (declaresTasks(ctx)) return;
  throw missingTasksExtension(
    `${ctx.method} needs the client capability extensions["${TASKS_EXTENSION}"], which this request did not declare`,
  );
}

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
function taskEra(tool: ToolEntry, p: Record<string, unknown>, ctx: Context): "session" | "perRequest" | undefined {
  const name = tool.def.name;
  if (isPerRequest(ctx.protocolVersion)) {
    const capable = declaresTasks(ctx);
    if (tool.task === "required" && !capable) {
      throw missingTasksExtension(
        `Tool ${name} runs only as a task: declare the client capability extensions["${TASKS_EXTENSION}"]`,
      );
    }
    return capable && tool.task !== "forbidden" ? "perRequest" : undefined;
  }
  if (!hasSessionTasks(ctx.protocolVersion)) return undefined;
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
