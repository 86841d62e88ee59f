// Handshake, JSON-RPC envelope errors, WebSocket details: issue 2.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import {
  ErrorCode,
  LATEST_PROTOCOL_VERSION,
  McpServer,
  type ServeHandle,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "../mod.ts";
import { emptyServer, RawClient, start } from "./testdata/helpers.ts";

describe("handshake and envelope", () => {
  let h: ServeHandle;
  before(() => {
    const server = emptyServer();
    server.tool("noop", {}, () => "ok");
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  test("initialize negotiates each supported version and reports capabilities", async () => {
    for (const version of SUPPORTED_PROTOCOL_VERSIONS) {
      const c = await RawClient.connect(h.url);
      const res = await c.request("initialize", {
        protocolVersion: version,
        capabilities: {},
        clientInfo: { name: "t", version: "1" },
      });
      assert.equal(res.result.protocolVersion, version);
      assert.deepEqual(res.result.serverInfo, { name: "test", version: "0.0.1" });
      assert.deepEqual(res.result.capabilities.tools, { listChanged: true });
      assert.equal(res.result.capabilities.prompts, undefined, "no prompts registered, no prompts capability");
      await c.close();
    }
  });

  test("capabilities can be declared before anything is registered, and list changes then reach the client", async () => {
    const server = new McpServer({ name: "late", version: "1", capabilities: { tools: true } });
    const h2 = start(server);
    const c = await RawClient.ready(h2.url);
    const init = await RawClient.connect(h2.url);
    const res = await init.request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "t", version: "1" },
    });
    assert.deepEqual(res.result.capabilities.tools, { listChanged: true });
    assert.equal(res.result.capabilities.prompts, undefined);
    server.tool("arrived", {}, () => "x");
    await c.notification("notifications/tools/list_changed");
    server.prompt("p", {}, () => "x"); // prompts were not advertised: no notification
    await c.request("ping");
    assert.equal(c.frames.filter((f) => f.method === "notifications/prompts/list_changed").length, 0);
    await init.close();
    await c.close();
    await h2.close({ timeout: 100 });
  });

  test("an unsupported version is answered with the latest", async () => {
    const c = await RawClient.connect(h.url);
    const res = await c.request("initialize", {
      protocolVersion: "1999-01-01",
      capabilities: {},
      clientInfo: { name: "t", version: "1" },
    });
    assert.equal(res.result.protocolVersion, LATEST_PROTOCOL_VERSION);
    await c.close();
  });

  test("requests before initialize get an error; ping is allowed", async () => {
    const c = await RawClient.connect(h.url);
    const ping = await c.request("ping");
    assert.deepEqual(ping.result, {});
    const early = await c.request("tools/list");
    assert.equal(early.error?.code, ErrorCode.InvalidRequest);
    assert.match(early.error!.message, /initialize/);
    await c.close();
  });

  test("a second initialize is refused", async () => {
    const c = await RawClient.ready(h.url);
    const again = await c.request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "t", version: "1" },
    });
    assert.equal(again.error?.code, ErrorCode.InvalidRequest);
    await c.close();
  });

  test("unknown method gives -32601", async () => {
    const c = await RawClient.ready(h.url);
    const res = await c.request("no/such/method");
    assert.equal(res.error?.code, ErrorCode.MethodNotFound);
    assert.match(res.error!.message, /no\/such\/method/);
    await c.close();
  });

  test("unparseable JSON gives -32700 with id null", async () => {
    const c = await RawClient.ready(h.url);
    c.send('{"jsonrpc":"2.0","id":1,"method":');
    const res = await c.next();
    assert.equal(res.id, null);
    assert.equal(res.error?.code, ErrorCode.ParseError);
    await c.close();
  });

  test("valid JSON that is not a request gives -32600", async () => {
    const c = await RawClient.ready(h.url);
    for (
      const bad of [42, "x", { id: 1, method: "ping" }, { jsonrpc: "2.0", id: 7, method: 5 }, {
        jsonrpc: "2.0",
        id: 8,
        method: "ping",
        params: [1],
      }]
    ) {
      c.send(JSON.stringify(bad));
      const res = await c.next();
      assert.equal(res.error?.code, ErrorCode.InvalidRequest, JSON.stringify(bad));
    }
    // The id is echoed back when it could be read.
    c.send({ jsonrpc: "2.0", id: 9, method: "ping", params: "nope" });
    assert.equal((await c.next()).id, 9);
    await c.close();
  });

  test("ping from the server reaches the client and its answer resolves", async () => {
    const server = emptyServer();
    const h2 = start(server);
    const c = await RawClient.ready(h2.url);
    const session = [...server.sessions][0];
    const pong = session.ping();
    const ping = await c.next((f) => f.method === "ping");
    c.send({ jsonrpc: "2.0", id: ping.id, result: {} });
    await pong;
    await c.close();
    await h2.close({ timeout: 100 });
  });
});

describe("websocket details", () => {
  let h: ServeHandle;
  let http: string;
  before(() => {
    // WebSocket alone: with HTTP on the same path, plain requests are Streamable HTTP.
    h = start(emptyServer(), { http: false });
    http = `http://127.0.0.1:${h.port}`;
  });
  after(() => h.close({ timeout: 100 }));

  test("the mcp subprotocol is selected when offered", async () => {
    const c = await RawClient.connect(h.url, ["other", "mcp"]);
    assert.equal(c.ws.protocol, "mcp");
    await c.close();
  });

  test("no subprotocol is selected when none is offered", async () => {
    const c = await RawClient.connect(h.url, []);
    assert.equal(c.ws.protocol, "");
    await c.close();
  });

  test("a binary frame closes the socket with 1003", async () => {
    const c = await RawClient.ready(h.url);
    c.ws.send(new Uint8Array([0x7b, 0x7d]));
    const { code } = await c.closed;
    assert.equal(code, 1003);
  });

  test("a plain HTTP request at the path gets 426 with an explanation", async () => {
    const res = await fetch(`${http}/mcp`);
    assert.equal(res.status, 426);
    assert.match(await res.text(), /WebSocket/);
  });

  test("other paths get 404", async () => {
    const res = await fetch(`${http}/elsewhere`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
});

describe("tools", () => {
  let h: ServeHandle;
  let c: RawClient;
  before(async () => {
    const server = emptyServer();
    server.tool("add", {
      description: "Add",
      input: z.object({ a: z.number().describe("first"), b: z.number() }),
    }, ({ a, b }) => String(a + b));
    server.tool("divide", {
      input: z.object({ a: z.number(), b: z.number() }),
      output: z.object({ quotient: z.number() }),
      annotations: { readOnlyHint: true },
    }, ({ a, b }) => ({ quotient: a / b }));
    server.tool(
      "wrong_output",
      { output: z.object({ n: z.number() }) },
      () => ({ n: "not a number" } as unknown as { n: number }),
    );
    server.tool("throws", {}, () => {
      throw new Error("the disk is on fire");
    });
    server.tool(
      "blocks",
      {},
      () => [{ type: "text", text: "a" }, { type: "image", data: "AAAA", mimeType: "image/png" }],
    );
    server.tool("unserializable", {}, () => ({ content: [{ type: "text", text: "x" }], _meta: { n: 1n } } as never));
    server.tool("slow", {}, (_a, ctx) =>
      new Promise((resolve) => {
        const t = setTimeout(() => resolve("slow done"), 10_000);
        ctx.signal.addEventListener("abort", () => (clearTimeout(t), resolve("aborted")));
      }));
    h = start(server);
    c = await RawClient.ready(h.url);
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  test("tools/list gives JSON Schema 2020-12 input and output schemas", async () => {
    const res = await c.request("tools/list");
    const byName = Object.fromEntries(res.result.tools.map((t: { name: string }) => [t.name, t]));
    assert.deepEqual(byName.add.inputSchema, {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: { a: { type: "number", description: "first" }, b: { type: "number" } },
      required: ["a", "b"],
    });
    assert.equal(byName.add.description, "Add");
    assert.equal(byName.divide.outputSchema.type, "object");
    assert.deepEqual(byName.divide.outputSchema.required, ["quotient"]);
    assert.deepEqual(byName.divide.annotations, { readOnlyHint: true });
    assert.deepEqual(byName.throws.inputSchema, { type: "object", additionalProperties: false });
  });

  test("tools/call returns text", async () => {
    const res = await c.call("add", { a: 2, b: 40 });
    assert.deepEqual(res.result, { content: [{ type: "text", text: "42" }] });
  });

  test("structured output comes with a JSON text fallback", async () => {
    const res = await c.call("divide", { a: 1, b: 4 });
    assert.deepEqual(res.result.structuredContent, { quotient: 0.25 });
    assert.deepEqual(JSON.parse(res.result.content[0].text), { quotient: 0.25 });
  });

  test("arrays of content blocks pass through", async () => {
    const res = await c.call("blocks");
    assert.equal(res.result.content.length, 2);
    assert.equal(res.result.content[1].type, "image");
  });

  test("invalid arguments give an isError result that names the problem", async () => {
    const res = await c.call("add", { a: "two", b: 1 });
    assert.equal(res.result.isError, true);
    assert.match(res.result.content[0].text, /Invalid arguments for tool add: a: .*number/);
  });

  test("a throwing handler gives an isError result with its message", async () => {
    const res = await c.call("throws");
    assert.equal(res.result.isError, true);
    assert.equal(res.result.content[0].text, "the disk is on fire");
  });

  test("structured content that breaks the output schema is reported as a server bug", async () => {
    const res = await c.call("wrong_output");
    assert.equal(res.result.isError, true);
    assert.match(res.result.content[0].text, /does not match its output schema.*n:/);
  });

  test("an unknown tool gives -32602", async () => {
    const res = await c.call("nope");
    assert.equal(res.error?.code, ErrorCode.InvalidParams);
    assert.match(res.error!.message, /Unknown tool: nope/);
  });

  test("an internal failure gives -32603 without a stack trace", async () => {
    const res = await c.call("unserializable");
    assert.equal(res.error?.code, ErrorCode.InternalError);
    assert.doesNotMatch(res.error!.message, /\n\s+at /);
  });

  test("a slow tool does not delay ping or other calls; cancelling it suppresses its response", async () => {
    c.send({ jsonrpc: "2.0", id: "slow-1", method: "tools/call", params: { name: "slow", arguments: {} } });
    const ping = await c.request("ping");
    assert.deepEqual(ping.result, {});
    const add = await c.call("add", { a: 1, b: 1 });
    assert.equal(add.result.content[0].text, "2");
    assert.equal(c.frames.find((f) => f.id === "slow-1"), undefined, "the slow call is still running");
    c.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "slow-1", reason: "test" } });
    // Two more round trips: any response to slow-1 would have been sent by now.
    await c.request("ping");
    await c.call("add", { a: 1, b: 2 });
    assert.equal(c.frames.find((f) => f.id === "slow-1"), undefined, "a cancelled request gets no response");
  });
});
