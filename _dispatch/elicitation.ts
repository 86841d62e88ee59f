// Form and URL elicitation, shared by the session (a request to the client) and 2026-07-28 (an input request).

import { ErrorCode, McpError } from "../jsonrpc.ts";
import { assertSchema, elicitationSchema, formatIssues, validate } from "../schema.ts";
import type { ElicitResult, InferOutput, StandardSchemaV1 } from "../types.ts";
import { describe } from "../_util/values.ts";

/** Whether the client's capabilities allow form mode; an empty elicitation capability means form (2025-06-18). */
export function supportsFormElicitation(caps: Record<string, unknown>): boolean {
  const e = caps.elicitation as Record<string, unknown> | undefined;
  return typeof e === "object" && e !== null && (e.form !== undefined || e.url === undefined);
}

export function elicitParams(message: string, schema: StandardSchemaV1, withMode: boolean): Record<string, unknown> {
  assertSchema(schema, "elicitation schema");
  const requestedSchema = elicitationSchema(schema);
  return withMode ? { mode: "form", message, requestedSchema } : { message, requestedSchema };
}

/** The client's answer, with accepted content validated against the schema asked for. */
export async function elicitOutcome<S extends StandardSchemaV1>(
  schema: S,
  res: Record<string, unknown>,
): Promise<ElicitResult<InferOutput<S>>> {
  if (res.action === "accept") {
    const checked = await validate(schema, res.content ?? {});
    if (checked.issues) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `The client's answer does not match the requested schema: ${formatIssues(checked.issues)}`,
      );
    }
    return { action: "accept", content: checked.value as InferOutput<S> };
  }
  if (res.action === "decline" || res.action === "cancel") return { action: res.action };
  throw new McpError(
    ErrorCode.InvalidParams,
    `The client answered elicitation/create with an unknown action: ${describe(res.action)}`,
  );
}

/** Whether the client's capabilities allow URL mode (2025-11-25 on). */
export function supportsUrlElicitation(caps: Record<string, unknown>): boolean {
  const e = caps.elicitation as Record<string, unknown> | undefined;
  return typeof e === "object" && e !== null && typeof e.url === "object" && e.url !== null;
}

/** A checked URL elicitation, with its id (a random UUID when none is given). */
export function urlElicitation(
  message: unknown,
  url: unknown,
  elicitationId?: unknown,
): { message: string; url: string; elicitationId: string } {
  if (typeof message !== "string" || message === "") {
    throw new TypeError(`A URL elicitation needs a message string for the user, not ${quoted(message)}`);
  }
  let parsed: URL | undefined;
  try {
    parsed = typeof url === "string" ? new URL(url) : undefined;
  } catch {
    // reported below
  }
  if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    throw new TypeError(`A URL elicitation needs an absolute http: or https: URL, not ${quoted(url)}`);
  }
  if (elicitationId !== undefined && (typeof elicitationId !== "string" || elicitationId === "")) {
    throw new TypeError(`elicitationId must be a non-empty string, not ${quoted(elicitationId)}`);
  }
  return { message, url: url as string, elicitationId: (elicitationId as string | undefined) ?? crypto.randomUUID() };
}

const quoted = (v: unknown) => (typeof v === "string" ? JSON.stringify(describe(v)) : describe(v));

/** `elicitation/create` params for a URL elicitation; 2026-07-28 has no elicitationId. */
export function urlElicitParams(
  e: { message: string; url: string; elicitationId: string },
  withId: boolean,
): Record<string, unknown> {
  return withId
    ? { mode: "url", message: e.message, url: e.url, elicitationId: e.elicitationId }
    : { mode: "url", message: e.message, url: e.url };
}

/** The action of the client's answer to a URL elicitation (any content is ignored: there is none to take). */
export function urlOutcome(res: Record<string, unknown>): "accept" | "decline" | "cancel" {
  const a = res.action;
  if (a === "accept" || a === "decline" || a === "cancel") return a;
  throw new McpError(
    ErrorCode.InvalidParams,
    `The client answered elicitation/create with an unknown action: ${describe(a)}`,
  );
}

/** The roots of a `roots/list` answer. */
export function rootsOf<R>(res: Record<string, unknown>): R[] {
  if (!Array.isArray(res.roots)) {
    throw new McpError(ErrorCode.InvalidParams, "The client's roots/list answer has no roots array");
  }
  return res.roots as R[];
}
