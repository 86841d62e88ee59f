// Small helpers the dispatcher's files share: log levels, timers, sync-or-async chaining, and
// naming client values in messages.

import { ErrorCode, McpError } from "../jsonrpc.ts";
import type { LoggingLevel } from "../types.ts";

/** Log levels, least severe first. */
export const LEVELS: readonly LoggingLevel[] = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
];

/** The rank of a level in {@linkcode LEVELS}; -1 for an unknown one. */
export const levelRank = (l: string): number => LEVELS.indexOf(l as LoggingLevel);

/**
 * A timer for a limit in milliseconds; none for 0 or Infinity. setTimeout
 * fires at once beyond 2^31 - 1 ms, so longer limits are clamped to that.
 */
export function later(fn: () => void, ms: number): ReturnType<typeof setTimeout> | undefined {
  return ms > 0 && ms !== Infinity ? setTimeout(fn, Math.min(ms, 2_147_483_647)) : undefined;
}

/** Lets a timer not keep the process alive by itself (Node and Bun: unref; Deno: Deno.unrefTimer). */
export function unref(timer: unknown): void {
  const t = timer as { unref?: () => void } | undefined;
  if (typeof t?.unref === "function") t.unref();
  else if (timer !== undefined) (globalThis as { Deno?: { unrefTimer?(id: unknown): void } }).Deno?.unrefTimer?.(timer);
}

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

/**
 * Auth values whose principal is not their JSON: an OAuth token's is who it
 * names (its subject and client), not its expiry or scopes, which a
 * refreshed token changes.
 */
export const principals: WeakMap<object, string> = new WeakMap();

/** The authenticate result as a comparable key: sessions and request states are bound to it. */
export function principalOf(auth: unknown): string {
  const known = typeof auth === "object" && auth !== null ? principals.get(auth) : undefined;
  if (known !== undefined) return known;
  try {
    return JSON.stringify(auth) ?? "";
  } catch {
    return String(auth);
  }
}
