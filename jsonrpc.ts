/**
 * JSON-RPC 2.0 envelopes, error codes and a cheap envelope check.
 *
 * The dispatcher validates envelopes by hand instead of with a schema
 * library: it runs for every frame, and these checks are a handful of
 * `typeof` tests.
 *
 * @module
 */

/** A JSON-RPC request id. MCP forbids `null`. */
export type RequestId = string | number;

/** A JSON-RPC request: a method call that expects exactly one response. */
export interface JsonRpcRequest {
  /** Always `"2.0"`. */
  jsonrpc: "2.0";
  /** Correlates the response with this request. */
  id: RequestId;
  /** The method to call. */
  method: string;
  /** Named parameters. */
  params?: Record<string, unknown>;
}

/** A JSON-RPC notification: a method call without an id and without a response. */
export interface JsonRpcNotification {
  /** Always `"2.0"`. */
  jsonrpc: "2.0";
  /** The notification's method. */
  method: string;
  /** Named parameters. */
  params?: Record<string, unknown>;
}

/** A successful JSON-RPC response. */
export interface JsonRpcResult {
  /** Always `"2.0"`. */
  jsonrpc: "2.0";
  /** The id of the request this answers. */
  id: RequestId;
  /** The method's result. */
  result: Record<string, unknown>;
}

/** The error object inside a JSON-RPC error response. */
export interface JsonRpcErrorObject {
  /** One of {@linkcode ErrorCode} or an application code. */
  code: number;
  /** A short, human-readable description. */
  message: string;
  /** Extra structured information. */
  data?: unknown;
}

/** A JSON-RPC error response. `id` is `null` when the request's id could not be read. */
export interface JsonRpcError {
  /** Always `"2.0"`. */
  jsonrpc: "2.0";
  /** The id of the request this answers, or `null`. */
  id: RequestId | null;
  /** What went wrong. */
  error: JsonRpcErrorObject;
}

/** Any JSON-RPC message. */
export type JsonRpcMessage =
  | JsonRpcRequest
  | JsonRpcNotification
  | JsonRpcResult
  | JsonRpcError;

/** JSON-RPC and MCP error codes used by this library. */
export const ErrorCode = {
  /** The frame is not valid JSON. */
  ParseError: -32700,
  /** Valid JSON, but not a valid JSON-RPC request. */
  InvalidRequest: -32600,
  /** The method does not exist (or is not offered by this server). */
  MethodNotFound: -32601,
  /** The parameters are wrong: unknown tool, missing prompt argument, bad cursor. */
  InvalidParams: -32602,
  /** An unexpected failure inside the server. */
  InternalError: -32603,
  /** A request to the peer timed out. */
  RequestTimeout: -32001,
  /** `resources/read` of a URI the server does not know. */
  ResourceNotFound: -32002,
  /** The connection closed, or the server is shutting down. */
  ConnectionClosed: -32000,
  /**
   * The access token lacks a scope the request needs (see `oauthResource`);
   * `data.requiredScopes` names them. Over HTTP it is answered with 403 and
   * a scope challenge.
   */
  InsufficientScope: -32003,
  /** Too many requests in flight on one connection. */
  ServerBusy: -32010,
  /** 2026-07-28: an HTTP header disagrees with the body. */
  HeaderMismatch: -32020,
  /** 2026-07-28: the request needs a client capability the client did not declare. */
  MissingClientCapability: -32021,
  /** 2026-07-28: the request's protocol version is not supported. */
  UnsupportedProtocolVersion: -32022,
  /** 2025-11-25: the user must complete URL elicitations before the request can succeed. */
  UrlElicitationRequired: -32042,
} as const;

/**
 * An error with a JSON-RPC code. Throw it from a handler to choose the
 * error response a client sees.
 *
 * @example
 * ```ts
 * import { ErrorCode, McpError } from "./mod.ts";
 * throw new McpError(ErrorCode.InvalidParams, "page must be positive");
 * ```
 */
export class McpError extends Error {
  /** The JSON-RPC error code. */
  readonly code: number;
  /** Extra structured information sent as `error.data`. */
  readonly data?: unknown;

  /** Creates an error with `code`, `message` and optional `data`. */
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "McpError";
    this.code = code;
    this.data = data;
  }

  /** The error object for a JSON-RPC response. */
  toJSON(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

/** What {@linkcode classify} makes of one parsed JSON value. */
export type Classified =
  | { kind: "request"; msg: JsonRpcRequest }
  | { kind: "notification"; msg: JsonRpcNotification }
  | { kind: "response"; id: RequestId; result?: Record<string, unknown>; error?: JsonRpcErrorObject }
  | { kind: "invalid"; id: RequestId | null; reason: string }
  | { kind: "ignored" };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is RequestId {
  return typeof v === "string" || (typeof v === "number" && Number.isSafeInteger(v));
}

/** Whether `v` is a well-formed request: the common case, told apart without {@linkcode classify}'s result object. */
export function isRequest(v: unknown): v is JsonRpcRequest {
  if (typeof v !== "object" || v === null) return false;
  const m = v as Record<string, unknown>;
  return m.jsonrpc === "2.0" && typeof m.method === "string" && isId(m.id) &&
    (m.params === undefined || isObject(m.params));
}

/**
 * Sorts one parsed JSON value into request, notification, response,
 * invalid, or ignored (an error response with no id), checking only the envelope. Ids must be strings or integers;
 * `params` must be an object when present.
 */
export function classify(v: unknown): Classified {
  if (isRequest(v)) return { kind: "request", msg: v };
  if (!isObject(v)) return { kind: "invalid", id: null, reason: "a JSON-RPC message must be an object" };
  const id = v.id;
  const idOk = isId(id);
  if (v.jsonrpc !== "2.0") {
    return { kind: "invalid", id: idOk ? id : null, reason: 'jsonrpc must be "2.0"' };
  }
  const method = v.method;
  if (method === undefined) {
    // An error response without a usable id answers something unknowable; answering it back could loop forever.
    if ((id === undefined || id === null) && isObject(v.error)) return { kind: "ignored" };
    if (!idOk) {
      return { kind: "invalid", id: null, reason: "a message needs a method, or a valid id with result or error" };
    }
    if ("result" in v && isObject(v.result)) return { kind: "response", id, result: v.result };
    if ("error" in v && isObject(v.error)) {
      return { kind: "response", id, error: v.error as unknown as JsonRpcErrorObject };
    }
    return { kind: "invalid", id, reason: "method is missing" };
  }
  if (typeof method !== "string") return { kind: "invalid", id: idOk ? id : null, reason: "method must be a string" };
  const params = v.params;
  if (params !== undefined && !isObject(params)) {
    return { kind: "invalid", id: idOk ? id : null, reason: "params must be an object" };
  }
  if (!("id" in v)) return { kind: "notification", msg: v as unknown as JsonRpcNotification };
  if (!idOk) {
    return { kind: "invalid", id: null, reason: "id must be a string or an integer (null is not allowed in MCP)" };
  }
  return { kind: "request", msg: v as unknown as JsonRpcRequest };
}

// Ids are strings or safe integers (classify() checks): an integer prints as itself, without JSON.stringify.
/** @internal An id as JSON. */
export function idJson(id: RequestId | null): string {
  return typeof id === "number" ? `${id}` : JSON.stringify(id);
}

/** Serializes a successful response. */
export function resultFrame(id: RequestId, result: unknown): string {
  return `{"jsonrpc":"2.0","id":${idJson(id)},"result":${JSON.stringify(result)}}`;
}

/** Serializes an error response. */
export function errorFrame(id: RequestId | null, error: JsonRpcErrorObject): string {
  return `{"jsonrpc":"2.0","id":${idJson(id)},"error":${JSON.stringify(error)}}`;
}

/** Serializes a notification. */
export function notificationFrame(method: string, params?: unknown): string {
  return params === undefined
    ? `{"jsonrpc":"2.0","method":${JSON.stringify(method)}}`
    : `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}

/** Serializes a request. */
export function requestFrame(id: RequestId, method: string, params?: unknown): string {
  return params === undefined
    ? `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":${JSON.stringify(method)}}`
    : `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"params":${
      JSON.stringify(params)
    }}`;
}
