/**
 * Standard Schema helpers: validation, JSON Schema derivation and readable
 * issue messages.
 *
 * @module
 */

import type { StandardIssue, StandardResult, StandardSchemaV1 } from "./types.ts";

/** Checks that a value implements Standard Schema, with a message naming `what` otherwise. */
export function assertSchema(schema: unknown, what: string): asserts schema is StandardSchemaV1 {
  const std = (schema as StandardSchemaV1 | undefined)?.["~standard"];
  if (!std || typeof std.validate !== "function") {
    throw new TypeError(`${what} must be a Standard Schema (for example a zod 4 schema)`);
  }
}

/** The JSON Schema (2020-12, with its `$schema`) a Standard Schema accepts as input. */
export function inputJsonSchema(schema: StandardSchemaV1, what: string): Record<string, unknown> {
  return toJsonSchema(schema, "input", what);
}

/** The JSON Schema (2020-12, with its `$schema`) of what a Standard Schema produces. */
export function outputJsonSchema(schema: StandardSchemaV1, what: string): Record<string, unknown> {
  return toJsonSchema(schema, "output", what);
}

function toJsonSchema(schema: StandardSchemaV1, io: "input" | "output", what: string): Record<string, unknown> {
  const conv = schema["~standard"].jsonSchema;
  if (!conv || typeof conv[io] !== "function") {
    throw new TypeError(
      `${what} implements Standard Schema but not Standard JSON Schema (~standard.jsonSchema); use zod >= 4.2 or a library that provides it`,
    );
  }
  return conv[io]({ target: "draft-2020-12" });
}

/** Runs a schema's validation; the result may be a promise for async schemas. */
export function validate<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
): StandardResult<T> | Promise<StandardResult<T>> {
  return schema["~standard"].validate(value);
}

/** One line per issue: `path: message`. */
export function formatIssues(issues: ReadonlyArray<StandardIssue>): string {
  return issues.map((i) => {
    const path = (i.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".");
    return path ? `${path}: ${i.message}` : i.message;
  }).join("; ");
}

const PRIMITIVES = new Set(["string", "number", "integer", "boolean"]);

/**
 * The `requestedSchema` of a form-mode elicitation: an object of primitive
 * fields (string, number, integer, boolean, enums, arrays of enum strings).
 * Throws a TypeError naming the first field that does not fit.
 */
export function elicitationSchema(schema: StandardSchemaV1): Record<string, unknown> {
  const json = inputJsonSchema(schema, "elicitation schema");
  if (json.type !== "object" || typeof json.properties !== "object" || json.properties === null) {
    throw new TypeError("elicitation schema must be an object schema of primitive fields");
  }
  const properties = json.properties as Record<string, Record<string, unknown>>;
  for (const [key, prop] of Object.entries(properties)) {
    const multi = prop.type === "array" && typeof prop.items === "object";
    if (!PRIMITIVES.has(prop.type as string) && !multi && !Array.isArray(prop.enum) && !Array.isArray(prop.oneOf)) {
      throw new TypeError(
        `elicitation field "${key}" must be a string, number, integer, boolean or enum (MCP allows only primitive fields)`,
      );
    }
  }
  const out: Record<string, unknown> = { type: "object", properties };
  if (Array.isArray(json.required) && json.required.length) out.required = json.required;
  return out;
}
