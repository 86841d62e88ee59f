// Result shaping: what handlers return, turned into MCP results and JSON-RPC frames.

import { ErrorCode, errorFrame, idJson, type JsonRpcErrorObject, type RequestId } from "../jsonrpc.ts";
import type { Refusal } from "../channel.ts";
import type { CallToolResult, ContentBlock, GetPromptResult, ReadResourceResult, ResourceContents } from "../types.ts";
import type { PromptReturn, ResourceReturn } from "../server.ts";
import { strip } from "../_util/values.ts";

/**
 * An error response with its code (and, refusing for want of OAuth scopes, the scopes) beside it, so that no
 * transport has to parse the frame to learn them.
 */
export class ErrorResponse implements Refusal {
  constructor(readonly text: string, readonly code: number, readonly requiredScopes?: readonly string[]) {}
}

export function errorResponse(id: RequestId | null, error: JsonRpcErrorObject): ErrorResponse {
  if (error.code !== ErrorCode.InsufficientScope) return new ErrorResponse(errorFrame(id, error), error.code);
  const scopes = (error.data as { requiredScopes?: unknown } | undefined)?.requiredScopes;
  const named = Array.isArray(scopes) && scopes.every((s) => typeof s === "string") ? scopes : undefined;
  return new ErrorResponse(errorFrame(id, error), error.code, named);
}

/** What answering one message gives: a result frame, an error, or nothing (a notification, a cancelled request). */
export type Answer = string | ErrorResponse | undefined;

/** Routes return either a result object or an already-serialized JSON string (cached lists, text tool results). */
export function responseFrame(id: RequestId, result: unknown): string | ErrorResponse {
  if (typeof result === "string") return `{"jsonrpc":"2.0","id":${idJson(id)},"result":${result}}`;
  let json: string;
  try {
    json = JSON.stringify(result);
  } catch (e) {
    // e.g. a BigInt or a cycle in a handler's result
    return errorResponse(id, {
      code: ErrorCode.InternalError,
      message: `Internal error: the result could not be serialized (${(e as Error).message})`,
    });
  }
  return `{"jsonrpc":"2.0","id":${idJson(id)},"result":${json}}`;
}

export function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

const CONTENT_TYPES = new Set(["text", "image", "audio", "resource_link", "resource"]);

function isContent(v: unknown): v is ContentBlock {
  return typeof v === "object" && v !== null && CONTENT_TYPES.has((v as { type?: unknown }).type as string);
}

// Characters JSON.stringify would escape: quotes, backslashes, controls and (lone) surrogates.
// deno-lint-ignore no-control-regex
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A text tool result, serialized at once: a string is cheaper to stringify than the object around it. */
export function textToolResult(text: string): string {
  // Most texts need no escaping, and quoting them is cheaper than JSON.stringify (3x on Bun).
  const json = text.length < 4096 && !ESCAPED.test(text) ? `"${text}"` : JSON.stringify(text);
  return `{"content":[{"type":"text","text":${json}}]}`;
}

export function toCallToolResult(out: unknown): CallToolResult {
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

export function toReadResult(uri: string, mimeType: string | undefined, out: ResourceReturn): ReadResourceResult {
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

export function toPromptResult(out: PromptReturn, description?: string): GetPromptResult {
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
