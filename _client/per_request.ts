// Protocol 2026-07-28 in the client: the per-request `_meta` envelope, the
// server/discover probe's verdict, the result fields a complete result sheds
// so that both eras return the same shapes, and the input requests of an
// `input_required` result answered by the client's handlers. The connection
// and the retry loop stay in client.ts.

import { ErrorCode } from "../jsonrpc.ts";
import type { Implementation, LoggingLevel } from "../types.ts";
import type { ListenFilter, ServerCapabilities } from "../client.ts";
import { McpClientError } from "./error.ts";
import { META, PER_REQUEST_PROTOCOL_VERSIONS } from "../versions.ts";

/** The per-request versions this client speaks, newest first. */
export const PER_REQUEST_VERSIONS: readonly string[] = PER_REQUEST_PROTOCOL_VERSIONS;

/** How many `input_required` rounds one request may take before the client gives up. */
export const MAX_INPUT_ROUNDS = 16;

/** What a per-request server may answer instead of a result: recognized 2026-07-28 error codes. */
const PER_REQUEST_ERRORS = new Set<number>([
  ErrorCode.UnsupportedProtocolVersion,
  ErrorCode.MissingClientCapability,
  ErrorCode.HeaderMismatch,
]);

const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** Whether `level` is one of the eight syslog levels. */
export function isLogLevel(level: unknown): level is LoggingLevel {
  return typeof level === "string" && LEVELS.includes(level);
}

/** What every 2026-07-28 request says about the client. */
export interface Scope {
  version: string;
  caps: Record<string, unknown>;
  info: Implementation;
  logLevel?: LoggingLevel;
}

/** `params` with the scope's keys in `_meta`; keys the caller put there win. */
export function envelope(params: Record<string, unknown> | undefined, scope: Scope): Record<string, unknown> {
  const meta: Record<string, unknown> = {
    [META.version]: scope.version,
    [META.caps]: scope.caps,
    [META.info]: scope.info,
  };
  if (scope.logLevel) meta[META.logLevel] = scope.logLevel;
  const own = params?._meta;
  return { ...params, _meta: typeof own === "object" && own !== null ? { ...meta, ...own } : meta };
}

/**
 * A complete result without what 2026-07-28 adds to every result
 * (`resultType`, the cache hints, `serverInfo` in `_meta`), so that the
 * McpClient methods return the same shapes in both eras.
 */
export function strip(result: Record<string, unknown>): Record<string, unknown> {
  const { resultType: _r, ttlMs: _t, cacheScope: _c, ...rest } = result;
  const meta = rest._meta;
  if (typeof meta === "object" && meta !== null && META.serverInfo in meta) {
    const { [META.serverInfo]: _s, ...others } = meta as Record<string, unknown>;
    if (Object.keys(others).length) rest._meta = others;
    else delete rest._meta;
  }
  return rest;
}

/** What the client learns from a `server/discover` result. */
export interface Discovered {
  serverInfo: Implementation;
  capabilities: ServerCapabilities;
  instructions?: string;
  supportedVersions: string[];
}

/** Reads a `server/discover` result. */
export function discovered(res: Record<string, unknown>): Discovered {
  const meta = res._meta as Record<string, unknown> | undefined;
  const info = meta?.[META.serverInfo];
  const caps = res.capabilities;
  const versions = res.supportedVersions;
  return {
    serverInfo: (typeof info === "object" && info !== null ? info : { name: "", version: "" }) as Implementation,
    capabilities: (typeof caps === "object" && caps !== null ? caps : {}) as ServerCapabilities,
    instructions: typeof res.instructions === "string" ? res.instructions : undefined,
    supportedVersions: Array.isArray(versions) ? versions.filter((v): v is string => typeof v === "string") : [],
  };
}

/**
 * Whether an error answer to the `server/discover` probe comes from a
 * 2026-07-28 server (which must not be taken for a legacy one). Any other
 * error, or none in time, means a server that wants `initialize` first.
 */
export function isPerRequestError(e: unknown): boolean {
  return e instanceof McpClientError && PER_REQUEST_ERRORS.has(e.code) && e.method === "server/discover";
}

/** One entry of an `input_required` result's `inputRequests`. */
export interface InputRequest {
  method: string;
  params: Record<string, unknown>;
}

/** The entries of `inputRequests`, checked; a malformed one is a clear error. */
export function inputRequestsOf(res: Record<string, unknown>, method: string): [string, InputRequest][] {
  const reqs = res.inputRequests;
  if (reqs === undefined) return [];
  const bad = (why: string) =>
    new McpClientError(ErrorCode.InternalError, `The server's input_required answer to ${method} ${why}`, res, method);
  if (typeof reqs !== "object" || reqs === null || Array.isArray(reqs)) throw bad("has no inputRequests object");
  return Object.entries(reqs).map(([key, r]) => {
    const m = (r as { method?: unknown } | null)?.method;
    if (typeof m !== "string") throw bad(`has an input request ${JSON.stringify(key)} without a method`);
    const p = (r as { params?: unknown }).params;
    return [key, { method: m, params: typeof p === "object" && p !== null ? p as Record<string, unknown> : {} }];
  });
}

/** The honoured part of a listen filter, from an acknowledgement's `notifications`. */
export function filterOf(value: unknown): ListenFilter {
  const f: ListenFilter = {};
  if (typeof value !== "object" || value === null) return f;
  const v = value as Record<string, unknown>;
  for (const k of ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] as const) {
    if (v[k] === true) f[k] = true;
  }
  if (Array.isArray(v.resourceSubscriptions)) {
    f.resourceSubscriptions = v.resourceSubscriptions.filter((u): u is string => typeof u === "string");
  }
  return f;
}

/** The subscription id a listen's notification carries in `_meta`. */
export function subscriptionIdOf(params: Record<string, unknown>): unknown {
  const meta = params._meta;
  return typeof meta === "object" && meta !== null ? (meta as Record<string, unknown>)[META.subscriptionId] : undefined;
}
