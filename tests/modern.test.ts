// Protocol 2026-07-28 beside the initialize-based versions, over WebSocket: issue 8.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { ErrorCode, McpServer, type ServeHandle } from "../mod.ts";
import { type Frame, RawClient, sseMessages, start } from "./testdata/helpers.ts";

const V = "2026-07-28";
const meta = (extra: Record<string, unknown> = {}, caps: Record<string, unknown> = { elicitation: { form: {} } }) => ({
  "io.modelcontextprotocol/protocolVersion": V,
  "io.modelcontextprotocol/clientCapabilities": caps,
  "io.modelcontextprotocol/clientInfo": { name: "modern", version: "1" },
  ...extra,
});

function build(): McpServer {
  const server = new McpServer({ name: "dual", version: "2.0.0", instructions: "Both eras." });
  // One handler serves both generations: real elicitation for 2025 sessions, input_required for 2026 requests.
  server.tool("greet", { description: "Ask for a name" }, async (_args, ctx) => {
    const a = await ctx.elicit("Your name?", z.object({ name: z.string() }));
    return a.action === "accept" ? `Hello, ${a.content.name}!` : `no (${a.action})`;
  });
  server.tool("two_questions", {}, async (_args, ctx) => {
    const first = await ctx.elicit("First?", z.object({ a: z.string() }));
    const second = await ctx.elicit("Second?", z.object({ b: z.number() }));
    if (first.action !== "accept" || second.action !== "accept") return "declined";
    return `${first.content.a}:${second.content.b}`;
  });
  server.tool("sample", {}, async (_args, ctx) => {
    const r = await ctx.sample({ messages: [{ role: "user", content: { type: "text", text: "hi" } }], maxTokens: 5 });
    return String(r.model);
  });
  server.tool("logs", {}, (_args, ctx) => {
    ctx.log("debug", "fine detail");
    ctx.log("warning", "careful");
    return "logged";
  });
  server.tool("echo", { input: z.object({ text: z.string() }) }, ({ text }) => text);
  server.resource("memo://one", { mimeType: "text/plain", cache: { ttlMs: 5000, cacheScope: "public" } }, () => "one");
  server.prompt("p", {}, () => "prompt text");
  return server;
}

describe("protocol 2026-07-28", () => {
  let server: McpServer;
  let h: ServeHandle;
  let modern: RawClient;
  before(async () => {
    server = build();
    h = start(server);
    modern = await RawClient.connect(h.url);
  });
  after(async () => {
    await modern.close();
    await h.close({ timeout: 100 });
  });

  test("a request with per-request _meta is served without initialize", async () => {
    const res = await modern.request("tools/call", { name: "echo", arguments: { text: "hi" }, _meta: meta() });
    assert.deepEqual(res.result.content, [{ type: "text", text: "hi" }]);
    assert.equal(res.result.resultType, "complete");
    assert.deepEqual(res.result._meta["io.modelcontextprotocol/serverInfo"], { name: "dual", version: "2.0.0" });
  });

  test("server/discover: versions, capabilities, instructions, cache hints", async () => {
    const res = await modern.request("server/discover", { _meta: meta() });
    assert.deepEqual(res.result.supportedVersions, [V, "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]);
    assert.ok(res.result.capabilities.tools);
    assert.equal(res.result.instructions, "Both eras.");
    assert.equal(res.result.resultType, "complete");
    assert.equal(typeof res.result.ttlMs, "number");
    assert.equal(res.result.cacheScope, "private");
  });

  test("list and read results carry resultType, ttlMs and cacheScope", async () => {
    const list = await modern.request("tools/list", { _meta: meta() });
    assert.equal(list.result.resultType, "complete");
    assert.equal(list.result.ttlMs, 60_000);
    assert.ok(list.result.tools.length >= 5);
    const read = await modern.request("resources/read", { uri: "memo://one", _meta: meta() });
    assert.equal(read.result.contents[0].text, "one");
    assert.equal(read.result.ttlMs, 5000);
    assert.equal(read.result.cacheScope, "public");
  });

  test("an unknown version gets -32022 with supported and requested", async () => {
    const res = await modern.request("tools/list", {
      _meta: meta({ "io.modelcontextprotocol/protocolVersion": "2099-01-01" }),
    });
    assert.equal(res.error?.code, ErrorCode.UnsupportedProtocolVersion);
    assert.deepEqual(res.error?.data, { supported: [V], requested: "2099-01-01" });
  });

  test("methods without a 2026-07-28 meaning are not found", async () => {
    const res = await modern.request("logging/setLevel", { level: "debug", _meta: meta() });
    assert.equal(res.error?.code, ErrorCode.MethodNotFound);
  });

  test("elicitation round trip through input_required; the retry resumes the handler", async () => {
    const first = await modern.request("tools/call", { name: "greet", arguments: {}, _meta: meta() });
    assert.equal(first.result.resultType, "input_required");
    const [key, req] = Object.entries(first.result.inputRequests)[0] as [
      string,
      { method: string; params: Record<string, unknown> },
    ];
    assert.equal(req.method, "elicitation/create");
    assert.equal(req.params.mode, "form");
    assert.deepEqual((req.params.requestedSchema as { required: string[] }).required, ["name"]);
    assert.equal(typeof first.result.requestState, "string");
    const second = await modern.request("tools/call", {
      name: "greet",
      arguments: {},
      inputResponses: { [key]: { action: "accept", content: { name: "Ada" } } },
      requestState: first.result.requestState,
      _meta: meta(),
    });
    assert.equal(second.result.resultType, "complete");
    assert.deepEqual(second.result.content, [{ type: "text", text: "Hello, Ada!" }]);
  });

  test("two questions take two rounds; answers of earlier rounds ride in requestState", async () => {
    const call = (extra: Record<string, unknown>) =>
      modern.request("tools/call", { name: "two_questions", arguments: {}, _meta: meta(), ...extra });
    const r1 = await call({});
    const k1 = Object.keys(r1.result.inputRequests)[0];
    const r2 = await call({
      inputResponses: { [k1]: { action: "accept", content: { a: "x" } } },
      requestState: r1.result.requestState,
    });
    assert.equal(r2.result.resultType, "input_required");
    const k2 = Object.keys(r2.result.inputRequests)[0];
    assert.notEqual(k2, k1);
    assert.equal((r2.result.inputRequests[k2].params as { message: string }).message, "Second?");
    const r3 = await call({
      inputResponses: { [k2]: { action: "accept", content: { b: 7 } } },
      requestState: r2.result.requestState,
    });
    assert.deepEqual(r3.result.content, [{ type: "text", text: "x:7" }]);
  });

  test("a tampered, foreign or expired requestState is refused with a clear error", async () => {
    const first = await modern.request("tools/call", { name: "greet", arguments: {}, _meta: meta() });
    const state = first.result.requestState as string;
    const tampered = state.slice(0, 5) + (state[5] === "A" ? "B" : "A") + state.slice(6);
    const answer = { "0": { action: "accept", content: { name: "Eve" } } };
    const bad = await modern.request("tools/call", {
      name: "greet",
      arguments: {},
      inputResponses: answer,
      requestState: tampered,
      _meta: meta(),
    });
    assert.equal(bad.error?.code, ErrorCode.InvalidParams);
    assert.match(bad.error!.message, /requestState/);
    const foreign = await modern.request("tools/call", {
      name: "two_questions",
      arguments: {},
      inputResponses: answer,
      requestState: state,
      _meta: meta(),
    });
    assert.match(foreign.error!.message, /different request/);

    const expiring = new McpServer({ name: "x", version: "1", requestStateTtl: -1000 });
    expiring.tool("greet", {}, async (_a, ctx) => {
      const a = await ctx.elicit("?", z.object({ name: z.string() }));
      return a.action;
    });
    const h2 = start(expiring);
    const c = await RawClient.connect(h2.url);
    const r1 = await c.request("tools/call", { name: "greet", arguments: {}, _meta: meta() });
    const r2 = await c.request("tools/call", {
      name: "greet",
      arguments: {},
      inputResponses: answer,
      requestState: r1.result.requestState,
      _meta: meta(),
    });
    assert.match(r2.error!.message, /expired/);
    await c.close();
    await h2.close({ timeout: 100 });
  });

  test("a needed capability that was not declared gets -32021 with requiredCapabilities", async () => {
    const res = await modern.request("tools/call", { name: "sample", arguments: {}, _meta: meta({}, {}) });
    assert.equal(res.error?.code, ErrorCode.MissingClientCapability);
    assert.deepEqual(res.error?.data, { requiredCapabilities: { sampling: {} } });
    const el = await modern.request("tools/call", { name: "greet", arguments: {}, _meta: meta({}, {}) });
    assert.equal(el.error?.code, ErrorCode.MissingClientCapability);
  });

  test("per-request logLevel is honoured; without it no log messages are sent", async () => {
    const withLevel = await modern.request("tools/call", {
      name: "logs",
      arguments: {},
      _meta: meta({ "io.modelcontextprotocol/logLevel": "info" }),
    });
    assert.equal(withLevel.result.content[0].text, "logged");
    const logs = modern.frames.filter((f) => f.method === "notifications/message").splice(0);
    modern.frames = modern.frames.filter((f) => f.method !== "notifications/message");
    assert.deepEqual(logs.map((f) => f.params!.data), ["careful"]);
    await modern.request("tools/call", { name: "logs", arguments: {}, _meta: meta() });
    assert.equal(modern.frames.filter((f) => f.method === "notifications/message").length, 0);
  });

  test("a 2025-11-25 client and a 2026-07-28 client on the same server at once", async () => {
    const legacy = await RawClient.ready(h.url, { elicitation: {} });
    const call = legacy.call("greet");
    const ask = await legacy.next((f) => f.method === "elicitation/create");
    assert.equal(ask.params!.mode, "form");
    // Meanwhile the modern client is served on its own socket.
    const m = await modern.request("tools/call", { name: "greet", arguments: {}, _meta: meta() });
    assert.equal(m.result.resultType, "input_required");
    legacy.send({ jsonrpc: "2.0", id: ask.id, result: { action: "accept", content: { name: "Grace" } } });
    assert.deepEqual((await call).result.content, [{ type: "text", text: "Hello, Grace!" }]);
    assert.equal((await call).result.resultType, undefined, "legacy results carry no resultType");
    await legacy.close();
  });
});

describe("subscriptions/listen", () => {
  let server: McpServer;
  let h: ServeHandle;
  before(() => {
    server = build();
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  const listen = (c: RawClient, id: string, notifications: Record<string, unknown>) =>
    c.send({ jsonrpc: "2.0", id, method: "subscriptions/listen", params: { notifications, _meta: meta() } });
  const sub = (f: Frame) =>
    (f.params?._meta as Record<string, unknown> | undefined)?.["io.modelcontextprotocol/subscriptionId"];

  test("acknowledges the honoured subset, then sends only opted-in notifications, tagged", async () => {
    const c = await RawClient.connect(h.url);
    listen(c, "L1", { toolsListChanged: true, resourceSubscriptions: ["memo://one"], bogus: true });
    const ack = await c.notification("notifications/subscriptions/acknowledged");
    assert.deepEqual(ack.params!.notifications, { toolsListChanged: true, resourceSubscriptions: ["memo://one"] });
    assert.equal(sub(ack), "L1");

    server.prompt("late_prompt", {}, () => "x"); // not opted in
    const reg = server.tool("late_tool", {}, () => "x");
    const changed = await c.notification("notifications/tools/list_changed");
    assert.equal(sub(changed), "L1");
    server.resourceUpdated("memo://other"); // not subscribed
    server.resourceUpdated("memo://one");
    const upd = await c.notification("notifications/resources/updated");
    assert.equal(upd.params!.uri, "memo://one");
    assert.equal(sub(upd), "L1");
    assert.equal(c.frames.filter((f) => f.method === "notifications/prompts/list_changed").length, 0);

    c.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "L1" } });
    const end = await c.next((f) => f.id === "L1");
    assert.deepEqual(end.result, {
      resultType: "complete",
      _meta: {
        "io.modelcontextprotocol/serverInfo": { name: "dual", version: "2.0.0" },
        "io.modelcontextprotocol/subscriptionId": "L1",
      },
    });
    reg.remove();
    await c.close();
  });

  test("several subscriptions share one socket, each with its own id", async () => {
    const c = await RawClient.connect(h.url);
    listen(c, "A", { toolsListChanged: true });
    listen(c, "B", { toolsListChanged: true, promptsListChanged: true });
    await c.next((f) => f.method === "notifications/subscriptions/acknowledged" && sub(f) === "A");
    await c.next((f) => f.method === "notifications/subscriptions/acknowledged" && sub(f) === "B");
    const reg = server.tool("another", {}, () => "x");
    const a = await c.next((f) => f.method === "notifications/tools/list_changed" && sub(f) === "A");
    const b = await c.next((f) => f.method === "notifications/tools/list_changed" && sub(f) === "B");
    assert.ok(a && b);
    reg.remove();
    await c.close();
  });

  test("server shutdown ends a listen with its result", async () => {
    const h2 = start(build());
    const c = await RawClient.connect(h2.url);
    listen(c, "S", { toolsListChanged: true });
    await c.notification("notifications/subscriptions/acknowledged");
    const closing = h2.close({ timeout: 1000 });
    const end = await c.next((f) => f.id === "S");
    assert.equal(end.result.resultType, "complete");
    assert.equal((await c.closed).code, 1001);
    await closing;
  });
});

// ---------------------------------------------------------------------------
// The same requests over Streamable HTTP and stdio.

describe("protocol 2026-07-28 over Streamable HTTP", () => {
  let server: McpServer;
  let h: ServeHandle;
  before(() => {
    server = build();
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  const post = (body: Record<string, unknown>, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(h.httpUrl, {
      method: "POST",
      signal,
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": V,
        "mcp-method": String(body.method),
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: "2.0", ...body }),
    });
  const answer = async (res: Response): Promise<Frame> => {
    const text = await res.text();
    const msgs = res.headers.get("content-type")?.startsWith("text/event-stream")
      ? sseMessages(text)
      : [JSON.parse(text)];
    return msgs.find((m) => m.id !== undefined && m.method === undefined)!;
  };

  test("a request with per-request _meta needs no session", async () => {
    const res = await post({
      id: 1,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "hi" }, _meta: meta() },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("mcp-session-id"), null);
    const msg = await answer(res);
    assert.deepEqual(msg.result.content, [{ type: "text", text: "hi" }]);
    assert.equal(msg.result.resultType, "complete");
    const disc = await answer(await post({ id: 2, method: "server/discover", params: { _meta: meta() } }));
    assert.equal(disc.result.supportedVersions[0], V);
  });

  test("MCP-Protocol-Version and Mcp-Method must agree with the body: -32020, status 400", async () => {
    const body = { id: 3, method: "tools/list", params: { _meta: meta() } };
    const badVersion = await post(body, { "mcp-protocol-version": "2025-11-25" });
    assert.equal(badVersion.status, 400);
    assert.equal((await badVersion.json()).error.code, ErrorCode.HeaderMismatch);
    const badMethod = await post(body, { "mcp-method": "prompts/list" });
    assert.equal(badMethod.status, 400);
    assert.equal((await badMethod.json()).error.code, ErrorCode.HeaderMismatch);
    const missing = await post(body, { "mcp-method": "" });
    assert.equal(missing.status, 400);
    await missing.body?.cancel();
  });

  test("an unknown version is -32022 with status 400; an unknown method 404", async () => {
    const v = "2099-01-01";
    const res = await post({
      id: 4,
      method: "tools/list",
      params: { _meta: meta({ "io.modelcontextprotocol/protocolVersion": v }) },
    }, {
      "mcp-protocol-version": v,
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.error.code, ErrorCode.UnsupportedProtocolVersion);
    assert.deepEqual(body.error.data.supported, [V]);
    const nf = await post({ id: 5, method: "no/such", params: { _meta: meta() } });
    assert.equal(nf.status, 404);
    assert.equal((await nf.json()).error.code, ErrorCode.MethodNotFound);
  });

  test("an elicitation round trip through input_required", async () => {
    const first = await answer(
      await post({ id: 6, method: "tools/call", params: { name: "greet", arguments: {}, _meta: meta() } }),
    );
    assert.equal(first.result.resultType, "input_required");
    const key = Object.keys(first.result.inputRequests)[0];
    const second = await answer(
      await post({
        id: 7,
        method: "tools/call",
        params: {
          name: "greet",
          arguments: {},
          inputResponses: { [key]: { action: "accept", content: { name: "Linus" } } },
          requestState: first.result.requestState,
          _meta: meta(),
        },
      }),
    );
    assert.deepEqual(second.result.content, [{ type: "text", text: "Hello, Linus!" }]);
  });

  test("subscriptions/listen streams its acknowledgement and tagged notifications", async () => {
    const controller = new AbortController();
    const res = await post(
      {
        id: "H1",
        method: "subscriptions/listen",
        params: { notifications: { toolsListChanged: true }, _meta: meta() },
      },
      {},
      controller.signal,
    );
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    const nextMessage = async (): Promise<Frame> => {
      for (;;) {
        const i = buf.indexOf("\n\n");
        if (i >= 0) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const msgs = sseMessages(ev + "\n\n");
          if (msgs.length) return msgs[0];
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buf += value;
      }
    };
    const ack = await nextMessage();
    assert.equal(ack.method, "notifications/subscriptions/acknowledged");
    const reg = server.tool("http_late", {}, () => "x");
    const changed = await nextMessage();
    assert.equal(changed.method, "notifications/tools/list_changed");
    assert.equal((changed.params!._meta as Record<string, unknown>)["io.modelcontextprotocol/subscriptionId"], "H1");
    reg.remove();
    controller.abort();
    await reader.cancel().catch(() => {});
  });
});

describe("protocol 2026-07-28 over stdio", () => {
  test("examples/server.ts --stdio answers a per-request tools/call and discover without initialize", async () => {
    const { spawn } = await import("node:child_process");
    const args = "Bun" in globalThis
      ? ["run", "examples/server.ts", "--stdio"]
      : ["run", "-A", "examples/server.ts", "--stdio"];
    const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "ignore"] });
    try {
      const lines: Frame[] = [];
      let buf = "";
      const want = (id: number) =>
        new Promise<Frame>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no answer to ${id}`)), 10_000);
          const check = () => {
            const f = lines.find((l) => l.id === id);
            if (f) (clearTimeout(timer), resolve(f));
          };
          child.stdout!.on("data", check);
          check();
        });
      child.stdout!.on("data", (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) (lines.push(JSON.parse(buf.slice(0, i))), buf = buf.slice(i + 1));
      });
      child.stdin!.write(
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "server/discover", params: { _meta: meta() } }) + "\n",
      );
      child.stdin!.write(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 2,
          method: "tools/call",
          params: { name: "add", arguments: { a: 2, b: 3 }, _meta: meta() },
        }) + "\n",
      );
      const disc = await want(1);
      assert.equal(disc.result.resultType, "complete");
      assert.equal(disc.result.supportedVersions[0], V);
      const add = await want(2);
      assert.deepEqual(add.result.content, [{ type: "text", text: "5" }]);
    } finally {
      child.stdin!.end();
      child.kill();
    }
  });
});

test('stateSecret: shorter than 16 bytes (an unset variable read as "") is refused at construction', () => {
  const make = (stateSecret: string | Uint8Array) => new McpServer({ name: "t", version: "1", stateSecret });
  for (const short of ["", "fifteen-bytes!!", new Uint8Array(15)]) {
    assert.throws(() => make(short), /stateSecret must be at least 16 bytes/);
  }
  assert.ok(make("sixteen-bytes!!!") && make(new Uint8Array(32)));
});
