// Small value helpers the library's files share: sync-or-async chaining, naming client values in
// messages, and the shapes of JSON values.

import { ErrorCode, type JsonRpcErrorObject, McpError } from "../jsonrpc.ts";

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | null)?.then === "function";
}

/** Chains `f` after `v`, synchronously when `v` is not a promise. */
export function then<T, R>(v: T | PromiseLike<T>, f: (v: T) => R | PromiseLike<R>): R | PromiseLike<R> {
  return isThenable(v) ? (v as PromiseLike<T>).then(f) : f(v as T);
}

/** Names a client-sent value in an error message without serializing it: it may be huge or nested 100,000 deep. */
export function describe(v: unknown): string {
  if (typeof v === "string") return v.length > 100 ? `${v.slice(0, 100)}…` : v;
  if (v === null || typeof v !== "object") return String(v);
  return Array.isArray(v) ? "(an array)" : "(an object)";
}

/** An error's message, or a description of whatever was thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message || err.name : describe(err);
}

/** Drops undefined fields so results carry no `"x": undefined` noise. */
export function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** An invalid-params error. */
export const invalid = (message: string): McpError => new McpError(ErrorCode.InvalidParams, message);

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** OAuth scope names (RFC 6749's scope-token): printable ASCII but space, `"` and `\`, so they fit a header. */
export function isScopeToken(s: unknown): s is string {
  return typeof s === "string" && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s);
}

/** What was thrown, as the error object of a JSON-RPC error response. */
export function toErrorObject(err: unknown): JsonRpcErrorObject {
  if (err instanceof McpError) return err.toJSON();
  // Never leak a stack trace; the message is enough to act on.
  const message = err instanceof Error ? err.message : String(err);
  return { code: ErrorCode.InternalError, message: `Internal error: ${message}` };
}
