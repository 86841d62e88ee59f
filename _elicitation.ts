// Form elicitation, shared by the session (a request to the client) and 2026-07-28 (an input request).

import { ErrorCode, McpError } from "./jsonrpc.ts";
import { assertSchema, elicitationSchema, formatIssues, validate } from "./schema.ts";
import type { ElicitResult, InferOutput, StandardSchemaV1 } from "./types.ts";
import { describe } from "./_util.ts";

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

/** The roots of a `roots/list` answer. */
export function rootsOf<R>(res: Record<string, unknown>): R[] {
  if (!Array.isArray(res.roots)) {
    throw new McpError(ErrorCode.InvalidParams, "The client's roots/list answer has no roots array");
  }
  return res.roots as R[];
}
