/**
 * The fixture server for the official conformance suite
 * (`@modelcontextprotocol/conformance` 0.1.16, `conformance server`): the
 * tools, resources and prompts its server scenarios call, served over
 * Streamable HTTP and WebSocket on one path.
 *
 *   deno run -A examples/conformance_server.ts      (or: bun run examples/conformance_server.ts)
 *
 * Listens on 127.0.0.1, port 3000 (PORT overrides; 0 picks a free one), at
 * /mcp, and prints the URL on stdout. scripts/conformance.sh runs the suite
 * against it.
 */
import { z } from "zod";
import { McpServer, type StandardSchemaV1 } from "../mod.ts";
import { closeSseStream, mcpHandler } from "../mod.ts";

// A 1x1 red PNG and a minimal WAV, as the scenarios suggest.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A Standard Schema given as raw JSON Schema, for shapes zod does not emit
 * (titled enums, `enumNames`, `$defs`). It accepts any object: the suite
 * checks the schema the server advertises, not validation.
 */
function rawSchema(json: Record<string, unknown>): StandardSchemaV1<Record<string, unknown>> {
  return {
    "~standard": {
      version: 1,
      vendor: "raw-json-schema",
      validate: (value) =>
        typeof value === "object" && value !== null && !Array.isArray(value)
          ? { value: value as Record<string, unknown> }
          : { issues: [{ message: "expected an object" }] },
      jsonSchema: { input: () => structuredClone(json), output: () => structuredClone(json) },
    },
  };
}

/** Builds the fixture server. */
export function createConformanceServer(): McpServer {
  const server = new McpServer({ name: "mcp-ws-conformance-fixture", version: "1.0.0" });

  // -- tools ------------------------------------------------------------------

  server.tool("test_simple_text", { description: "Returns simple text content" }, () => ({
    content: [{ type: "text", text: "This is a simple text response for testing." }],
  }));

  server.tool("test_image_content", { description: "Returns image content" }, () => ({
    content: [{ type: "image", data: PNG, mimeType: "image/png" }],
  }));

  server.tool("test_audio_content", { description: "Returns audio content" }, () => ({
    content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }],
  }));

  server.tool("test_embedded_resource", { description: "Returns an embedded resource" }, () => ({
    content: [{
      type: "resource",
      resource: {
        uri: "test://embedded-resource",
        mimeType: "text/plain",
        text: "This is an embedded resource content.",
      },
    }],
  }));

  server.tool("test_multiple_content_types", { description: "Returns text, image and resource content" }, () => ({
    content: [
      { type: "text", text: "Multiple content types test:" },
      { type: "image", data: PNG, mimeType: "image/png" },
      {
        type: "resource",
        resource: {
          uri: "test://mixed-content-resource",
          mimeType: "application/json",
          text: JSON.stringify({ test: "data", value: 123 }),
        },
      },
    ],
  }));

  server.tool(
    "test_tool_with_logging",
    { description: "Sends three log messages while it runs" },
    async (_args, ctx) => {
      ctx.log("info", "Tool execution started");
      await sleep(50);
      ctx.log("info", "Tool processing data");
      await sleep(50);
      ctx.log("info", "Tool execution completed");
      return "Tool with logging executed successfully";
    },
  );

  server.tool(
    "test_tool_with_progress",
    { description: "Reports progress 0, 50 and 100 of 100" },
    async (_args, ctx) => {
      ctx.progress(0, 100, "Completed step 0 of 100");
      await sleep(50);
      ctx.progress(50, 100, "Completed step 50 of 100");
      await sleep(50);
      ctx.progress(100, 100, "Completed step 100 of 100");
      return String(ctx.progressToken ?? "no progress token");
    },
  );

  server.tool("test_error_handling", { description: "Always fails" }, () => {
    throw new Error("This tool intentionally returns an error for testing");
  });

  server.tool("test_reconnection", {
    description: "Closes its SSE stream mid-call; the result arrives after the client reconnects (SEP-1699)",
  }, async (_args, ctx) => {
    closeSseStream(ctx);
    await sleep(100);
    return "Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.";
  });

  server.tool("test_sampling", {
    description: "Asks the client's model (sampling/createMessage)",
    input: z.object({ prompt: z.string().describe("The prompt to send to the LLM") }),
  }, async ({ prompt }, ctx) => {
    const res = await ctx.sample({
      messages: [{ role: "user", content: { type: "text", text: prompt } }],
      maxTokens: 100,
    });
    const content = res.content as { type: string; text?: string };
    return `LLM response: ${content.type === "text" ? content.text : `(${content.type})`}`;
  });

  server.tool("test_elicitation", {
    description: "Asks the user for input (elicitation/create)",
    input: z.object({ message: z.string().describe("The message to show the user") }),
  }, async ({ message }, ctx) => {
    const res = await ctx.elicit(
      message,
      z.object({
        username: z.string().describe("User's response"),
        email: z.string().describe("User's email address"),
      }),
    );
    return `User response: action=${res.action}, content=${JSON.stringify(res.action === "accept" ? res.content : {})}`;
  });

  server.tool("test_elicitation_sep1034_defaults", {
    description: "Elicitation with a default for every primitive type (SEP-1034)",
  }, async (_args, ctx) => {
    const res = await ctx.elicit(
      "Please review and update the form fields with defaults",
      z.object({
        name: z.string().describe("User name").default("John Doe"),
        age: z.number().int().describe("User age").default(30),
        score: z.number().describe("User score").default(95.5),
        status: z.enum(["active", "inactive", "pending"]).describe("User status").default("active"),
        verified: z.boolean().describe("Verification status").default(true),
      }),
    );
    return `Elicitation completed: action=${res.action}, content=${
      JSON.stringify(res.action === "accept" ? res.content : {})
    }`;
  });

  server.tool("test_elicitation_sep1330_enums", {
    description: "Elicitation with all five enum schema variants (SEP-1330)",
  }, async (_args, ctx) => {
    const res = await ctx.elicit(
      "Please select options from the enum fields",
      rawSchema({
        type: "object",
        properties: {
          untitledSingle: {
            type: "string",
            description: "Select one option",
            enum: ["option1", "option2", "option3"],
          },
          titledSingle: {
            type: "string",
            description: "Select one option with titles",
            oneOf: [
              { const: "value1", title: "First Option" },
              { const: "value2", title: "Second Option" },
              { const: "value3", title: "Third Option" },
            ],
          },
          legacyEnum: {
            type: "string",
            description: "Select one option (legacy)",
            enum: ["opt1", "opt2", "opt3"],
            enumNames: ["Option One", "Option Two", "Option Three"],
          },
          untitledMulti: {
            type: "array",
            description: "Select multiple options",
            minItems: 1,
            maxItems: 3,
            items: { type: "string", enum: ["option1", "option2", "option3"] },
          },
          titledMulti: {
            type: "array",
            description: "Select multiple options with titles",
            minItems: 1,
            maxItems: 3,
            items: {
              anyOf: [
                { const: "value1", title: "First Choice" },
                { const: "value2", title: "Second Choice" },
                { const: "value3", title: "Third Choice" },
              ],
            },
          },
        },
        required: [],
      }),
    );
    return `Elicitation completed: action=${res.action}, content=${
      JSON.stringify(res.action === "accept" ? res.content : {})
    }`;
  });

  server.tool("json_schema_2020_12_tool", {
    description: "Tool with JSON Schema 2020-12 features",
    input: rawSchema({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: {
        address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } },
      },
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
    }),
  }, (args) => `Hello, ${String(args.name ?? "anonymous")}`);

  // -- resources ----------------------------------------------------------------

  server.resource("test://static-text", {
    name: "static-text",
    description: "A static text resource",
    mimeType: "text/plain",
  }, () => "This is the content of the static text resource.");

  server.resource("test://static-binary", {
    name: "static-binary",
    description: "A static binary resource (a PNG image)",
    mimeType: "image/png",
  }, () => Uint8Array.from(atob(PNG), (c) => c.charCodeAt(0)));

  server.resource("test://watched-resource", {
    name: "watched-resource",
    description: "A resource clients may subscribe to",
    mimeType: "text/plain",
  }, () => "Watched resource content");

  server.resourceTemplate("test://template/{id}/data", {
    name: "template",
    description: "A resource template with one parameter",
    mimeType: "application/json",
  }, (_uri, { id }) => JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }));

  // -- prompts ------------------------------------------------------------------

  server.prompt("test_simple_prompt", { description: "A simple prompt without arguments" }, () => [
    { role: "user", content: { type: "text", text: "This is a simple prompt for testing." } },
  ]);

  server.prompt("test_prompt_with_arguments", {
    description: "A prompt with two required arguments",
    args: z.object({
      arg1: z.string().describe("First test argument"),
      arg2: z.string().describe("Second test argument"),
    }),
    complete: {
      arg1: (value) => ["test_value_1", "test_value_2", "paris", "park"].filter((v) => v.startsWith(value)),
    },
  }, ({ arg1, arg2 }) => [
    { role: "user", content: { type: "text", text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } },
  ]);

  server.prompt("test_prompt_with_embedded_resource", {
    description: "A prompt that embeds a resource",
    args: z.object({ resourceUri: z.string().describe("URI of the resource to embed") }),
  }, ({ resourceUri }) => [
    {
      role: "user",
      content: {
        type: "resource",
        resource: { uri: resourceUri, mimeType: "text/plain", text: "Embedded resource content for testing." },
      },
    },
    { role: "user", content: { type: "text", text: "Please process the embedded resource above." } },
  ]);

  server.prompt("test_prompt_with_image", { description: "A prompt with an image" }, () => [
    { role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } },
    { role: "user", content: { type: "text", text: "Please analyze the image above." } },
  ]);

  return server;
}

if (import.meta.main) {
  // deno-lint-ignore no-explicit-any
  const rt = globalThis as any;
  const port = Number(rt.Deno?.env.get("PORT") ?? rt.process?.env.PORT ?? 3000);
  const server = createConformanceServer();
  const mcp = mcpHandler(server);
  const hostname = "127.0.0.1";
  let bound: number;
  if (rt.Bun) {
    bound = rt.Bun.serve({ hostname, port, fetch: mcp.fetch, websocket: mcp.websocket }).port;
  } else {
    bound = rt.Deno.serve({ hostname, port, onListen() {} }, mcp.fetch).addr.port;
  }
  console.log(`MCP conformance fixture on http://${hostname}:${bound}/mcp (HTTP and WebSocket)`);
}
