// The WebSocket client (client.ts) against examples/server.ts and small
// purpose-built servers, over real sockets on random ports.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { ErrorCode, McpError, McpServer, type ServeHandle, type Session } from "../mod.ts";
import { type CloseInfo, connect, type McpClient, McpClientError, type Progress } from "../client.ts";
import { createServer } from "../examples/server.ts";
import type { Frame } from "./testdata/helpers.ts";
import { closedPort, deferred, rejectsWith, start, within } from "./testdata/helpers.ts";

// ---------------------------------------------------------------------------
// Helpers

const WAIT = 5000;

/** Records every frame each session receives from its client. */
function record(server: McpServer): Map<Session, Frame[]> {
  const frames = new Map<Session, Frame[]>();
  const connectSession = server.connect.bind(server);
  server.connect = (channel, init) => {
    const session = connectSession(channel, init);
    const list: Frame[] = [];
    frames.set(session, list);
    const receive = session.receive.bind(session);
    session.receive = (text: string) => {
      list.push(JSON.parse(text));
      receive(text);
    };
    return session;
  };
  return frames;
}

/** The server-side session of the client named `name`. */
function sessionOf(server: McpServer, name: string): Session {
  const s = [...server.sessions].find((s) => s.clientInfo?.name === name);
  assert.ok(s, `no session for client ${name}`);
  return s;
}

let nextName = 0;
const uniqueName = (prefix: string) => `${prefix}-${++nextName}`;

// ---------------------------------------------------------------------------

describe("client against the example server", () => {
  let server: McpServer;
  let frames: Map<Session, Frame[]>;
  let h: ServeHandle;
  const clients: McpClient[] = [];

  async function open(prefix: string, options: Parameters<typeof connect>[1] = {}): Promise<[McpClient, string]> {
    const name = uniqueName(prefix);
    const c = await connect(h.url, { clientInfo: { name, version: "1.0.0" }, ...options });
    clients.push(c);
    return [c, name];
  }

  before(() => {
    server = createServer();
    frames = record(server);
    h = start(server);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await h.close({ timeout: 100 });
  });

  test("connect performs initialize and notifications/initialized", async () => {
    const [client, name] = await open("init");
    assert.equal(client.protocolVersion, "2025-11-25");
    assert.deepEqual(client.serverInfo, { name: "example", version: "1.0.0", title: "Example MCP server" });
    assert.match(client.instructions ?? "", /arithmetic/);
    assert.deepEqual(client.serverCapabilities.tools, { listChanged: true });
    assert.deepEqual(client.serverCapabilities.resources, { subscribe: true, listChanged: true });
    assert.equal(client.state, "open");
    const session = sessionOf(server, name);
    await client.ping(); // every frame the client sent so far has arrived
    const sent = frames.get(session)!;
    assert.equal(sent[0].method, "initialize");
    assert.deepEqual(sent[0].params, {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name, version: "1.0.0" },
    });
    assert.deepEqual(sent[1], { jsonrpc: "2.0", method: "notifications/initialized" });
    assert.equal(session.protocolVersion, "2025-11-25");
  });

  test("capabilities are declared for the handlers given", async () => {
    const [, name] = await open("caps", {
      onSample: () => ({ role: "assistant", model: "m", content: { type: "text", text: "" } }),
      onElicit: () => ({ action: "cancel" }),
      onListRoots: () => [],
      capabilities: { experimental: { x: {} } },
    });
    assert.deepEqual(sessionOf(server, name).clientCapabilities, {
      experimental: { x: {} },
      sampling: {},
      elicitation: { form: {} },
      roots: { listChanged: true },
    });
  });

  test("an older protocol version can be requested", async () => {
    const [client, name] = await open("old", { protocolVersion: "2025-03-26" });
    assert.equal(client.protocolVersion, "2025-03-26");
    assert.equal(sessionOf(server, name).protocolVersion, "2025-03-26");
  });

  test("tools: list and call; a failing tool resolves with isError; an unknown tool rejects", async () => {
    const [client] = await open("tools");
    const page = await client.listTools();
    assert.equal(page.nextCursor, undefined);
    assert.deepEqual(page.tools.map((t) => t.name), [
      "echo",
      "add",
      "divide",
      "slow",
      "greet_user",
      "summarize",
      "list_roots",
    ]);
    assert.deepEqual((await client.listAllTools()).map((t) => t.name), page.tools.map((t) => t.name));
    assert.deepEqual(await client.callTool("add", { a: 20, b: 22 }), { content: [{ type: "text", text: "42" }] });
    const divided = await client.callTool("divide", { a: 7, b: 2 });
    assert.deepEqual(divided.structuredContent, { quotient: 3, remainder: 1 });
    const failed = await client.callTool("divide", { a: 1, b: 0 });
    assert.equal(failed.isError, true);
    assert.deepEqual(failed.content, [{ type: "text", text: "Cannot divide by zero" }]);
    const err = await rejectsWith(client.callTool("nope", {}), ErrorCode.InvalidParams, /Unknown tool: nope/);
    assert.equal(err.method, "tools/call");
    assert.ok(err instanceof McpError, "McpClientError is an McpError");
  });

  test("concurrent requests are matched to their answers", async () => {
    const [client] = await open("many");
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.callTool("add", { a: i, b: 1000 })),
    );
    assert.deepEqual(results.map((r) => (r.content[0] as { text: string }).text), results.map((_, i) => `${i + 1000}`));
  });

  test("progress: onProgress sends a progress token and receives every report", async () => {
    const [client, name] = await open("progress");
    const seen: Progress[] = [];
    const result = await client.callTool("slow", { ms: 40, steps: 4 }, { onProgress: (p) => seen.push(p) });
    assert.deepEqual(result.content, [{ type: "text", text: "waited 40 ms" }]);
    assert.deepEqual(seen, [1, 2, 3, 4].map((i) => ({ progress: i, total: 4, message: `step ${i} of 4` })));
    const call = frames.get(sessionOf(server, name))!.find((f) => f.method === "tools/call")!;
    assert.equal(call.params!._meta !== undefined, true);
    assert.equal((call.params!._meta as Record<string, unknown>).progressToken, call.id);
  });

  test("cancellation: aborting sends notifications/cancelled, rejects with AbortError, aborts the handler", async () => {
    const [client, name] = await open("cancel");
    const session = sessionOf(server, name);
    const controller = new AbortController();
    const first = deferred();
    const call = client.callTool("slow", { ms: 10_000, steps: 100 }, {
      signal: controller.signal,
      onProgress: () => first.resolve(),
    });
    await within(first.promise, "the first progress report");
    assert.equal(session.inFlight, 1, "the handler is running");
    controller.abort();
    await assert.rejects(within(call, "the aborted call"), (e: Error) => e.name === "AbortError");
    await client.ping();
    assert.equal(session.inFlight, 0, "the server-side handler was aborted");
    const sent = frames.get(session)!;
    const callFrame = sent.find((f) => f.method === "tools/call")!;
    const cancel = sent.find((f) => f.method === "notifications/cancelled");
    assert.equal(cancel?.params?.requestId, callFrame.id);
  });

  test("an already-aborted signal rejects without sending anything", async () => {
    const [client, name] = await open("preabort");
    const reason = new Error("changed my mind");
    await assert.rejects(client.callTool("add", { a: 1, b: 2 }, { signal: AbortSignal.abort(reason) }), reason);
    await client.ping();
    assert.equal(frames.get(sessionOf(server, name))!.some((f) => f.method === "tools/call"), false);
  });

  test("timeouts: per call, from connect options, and a per-call override", async () => {
    const [client, name] = await open("timeout");
    const session = sessionOf(server, name);
    const err = await rejectsWith(
      client.callTool("slow", { ms: 60_000, steps: 100 }, { timeout: 50 }),
      ErrorCode.RequestTimeout,
      /tools\/call within 50 ms/,
    );
    assert.equal(err.method, "tools/call");
    await client.ping();
    assert.equal(session.inFlight, 0, "the timed-out request was cancelled on the server");
    const cancel = frames.get(session)!.find((f) => f.method === "notifications/cancelled");
    assert.match(String(cancel?.params?.reason), /timed out/);

    const [fast] = await open("timeout-default", { timeout: 50 });
    await rejectsWith(fast.callTool("slow", { ms: 60_000, steps: 100 }), ErrorCode.RequestTimeout);
    // The handler needs at least 200 ms; a 50 ms default would fail it, the override does not.
    const ok = await fast.callTool("slow", { ms: 200, steps: 1 }, { timeout: WAIT });
    assert.deepEqual(ok.content, [{ type: "text", text: "waited 200 ms" }]);
    // Beyond setTimeout's 2^31 - 1 ms a timer fires at once; a long limit must still mean "wait".
    const long = await fast.callTool("echo", { text: "patient" }, { timeout: 3_000_000_000 });
    assert.deepEqual(long.content, [{ type: "text", text: "patient" }]);
  });

  test("resources: list, templates, read, not found", async () => {
    const [client] = await open("resources");
    const page = await client.listResources();
    assert.deepEqual(page.resources.map((r) => r.uri), [
      "config://app",
      "users://ada/profile",
      "users://alan/profile",
      "users://barbara/profile",
      "users://grace/profile",
      "users://linus/profile",
    ]);
    assert.equal((await client.listAllResources()).length, 6);
    const templates = await client.listResourceTemplates();
    assert.deepEqual(templates.resourceTemplates.map((t) => t.uriTemplate), ["users://{name}/profile"]);
    assert.deepEqual(await client.listAllResourceTemplates(), templates.resourceTemplates);
    const read = await client.readResource("config://app");
    assert.deepEqual(read.contents, [{
      uri: "config://app",
      mimeType: "application/json",
      text: '{"theme":"dark","debug":false}',
    }]);
    const profile = await client.readResource("users://grace/profile");
    assert.deepEqual(profile.contents, [{
      uri: "users://grace/profile",
      mimeType: "text/plain",
      text: "Profile of grace",
    }]);
    const err = await rejectsWith(client.readResource("nope://x"), ErrorCode.ResourceNotFound);
    assert.deepEqual(err.data, { uri: "nope://x" });
  });

  test("subscribe: updates reach the callback and on(); unsubscribe stops them", async () => {
    const [client, name] = await open("subscribe");
    const session = sessionOf(server, name);
    const updates: string[] = [];
    const second: string[] = [];
    const got = deferred<string>();
    const viaOn = deferred<Record<string, unknown>>();
    const unsubscribe = await client.subscribe("config://app", ({ uri }) => (updates.push(uri), got.resolve(uri)));
    const off = client.on("notifications/resources/updated", (p) => viaOn.resolve(p));
    assert.ok(session.subscriptions.has("config://app"));
    const unsubscribe2 = await client.subscribe("config://app", ({ uri }) => second.push(uri));
    server.resourceUpdated("config://app");
    assert.equal(await within(got.promise, "the update"), "config://app");
    assert.deepEqual(await within(viaOn.promise, "the notification"), { uri: "config://app" });
    off();
    await unsubscribe();
    assert.ok(session.subscriptions.has("config://app"), "the second subscriber keeps the subscription");
    await unsubscribe2();
    await unsubscribe2(); // idempotent
    assert.equal(session.subscriptions.has("config://app"), false);
    server.resourceUpdated("config://app");
    await client.ping();
    assert.deepEqual(updates, ["config://app"]);
    assert.deepEqual(second, ["config://app"]);
    const frameMethods = frames.get(session)!.map((f) => f.method).filter((m) => m?.startsWith("resources/"));
    assert.deepEqual(frameMethods, ["resources/subscribe", "resources/unsubscribe"]);
  });

  test("prompts: list, get, missing argument", async () => {
    const [client] = await open("prompts");
    const page = await client.listPrompts();
    assert.deepEqual(page.prompts.map((p) => p.name), ["review_code"]);
    assert.deepEqual((await client.listAllPrompts()).map((p) => p.name), ["review_code"]);
    assert.deepEqual(page.prompts[0].arguments?.map((a) => [a.name, a.required]), [["code", true], [
      "language",
      false,
    ]]);
    const got = await client.getPrompt("review_code", { code: "x = 1", language: "python" });
    assert.equal(got.description, "Ask for a code review");
    assert.deepEqual(got.messages, [{
      role: "user",
      content: { type: "text", text: "Please review this python code:\n\nx = 1" },
    }]);
    const bare = await client.getPrompt("review_code", { code: "x = 1" });
    assert.deepEqual(bare.messages[0].content, { type: "text", text: "Please review this code:\n\nx = 1" });
    await rejectsWith(client.getPrompt("review_code", {}), ErrorCode.InvalidParams, /code/);
  });

  test("complete: resource template variables and prompt arguments, with context", async () => {
    const [client, name] = await open("complete");
    const users = await client.complete({ type: "ref/resource", uri: "users://{name}/profile" }, {
      name: "name",
      value: "a",
    });
    assert.deepEqual(users, { values: ["ada", "alan"], total: 2, hasMore: false });
    const langs = await client.complete(
      { type: "ref/prompt", name: "review_code" },
      { name: "language", value: "t" },
      { arguments: { code: "x" } },
    );
    assert.deepEqual(langs.values, ["typescript"]);
    const sent = frames.get(sessionOf(server, name))!.filter((f) => f.method === "completion/complete");
    assert.deepEqual(sent[1].params, {
      ref: { type: "ref/prompt", name: "review_code" },
      argument: { name: "language", value: "t" },
      context: { arguments: { code: "x" } },
    });
  });

  test("setLogLevel and notifications/message", async () => {
    const [client, name] = await open("logging");
    const session = sessionOf(server, name);
    const messages: Record<string, unknown>[] = [];
    let arrived = deferred();
    client.on("notifications/message", (p) => (messages.push(p), arrived.resolve()));
    await client.setLogLevel("debug");
    assert.equal(session.logLevel, "debug");
    session.log("debug", { step: 1 }, "test");
    await within(arrived.promise, "the debug message");
    assert.deepEqual(messages, [{ level: "debug", logger: "test", data: { step: 1 } }]);
    await client.setLogLevel("error");
    arrived = deferred();
    session.log("warning", "dropped");
    session.log("error", "kept");
    await within(arrived.promise, "the error message");
    assert.deepEqual(messages.slice(1), [{ level: "error", data: "kept" }]);
    await rejectsWith(client.setLogLevel("loud" as "error"), ErrorCode.InvalidParams);
  });

  test("on(): list_changed notifications, other notifications, and off()", async () => {
    const [client, name] = await open("notify");
    const tools = deferred<Record<string, unknown>>();
    const toolsMessage = deferred<Record<string, unknown>>();
    const prompts = deferred();
    const resources = deferred();
    const custom = deferred<Record<string, unknown>>();
    let removed = 0;
    const offRemoved = client.on("notifications/tools/list_changed", () => removed++);
    client.on("notifications/tools/list_changed", (p, msg) => (tools.resolve(p), toolsMessage.resolve({ ...msg })));
    client.on("notifications/prompts/list_changed", () => prompts.resolve());
    client.on("notifications/resources/list_changed", () => resources.resolve());
    client.on("notifications/custom", (p) => custom.resolve(p));
    offRemoved();
    const tool = server.tool("temp_tool", {}, () => "");
    const prompt = server.prompt("temp_prompt", {}, () => "");
    const resource = server.resource("temp://r", {}, () => "");
    try {
      assert.deepEqual(await within(tools.promise, "tools/list_changed"), {});
      // The whole message tells a notification without params from one with {}.
      assert.deepEqual(await toolsMessage.promise, { jsonrpc: "2.0", method: "notifications/tools/list_changed" });
      await within(prompts.promise, "prompts/list_changed");
      await within(resources.promise, "resources/list_changed");
      assert.equal(removed, 0, "the listener that was switched off did not run");
      sessionOf(server, name).notify("notifications/custom", { n: 1 });
      assert.deepEqual(await within(custom.promise, "the custom notification"), { n: 1 });
    } finally {
      tool.remove();
      prompt.remove();
      resource.remove();
    }
  });

  test("a listener that throws is reported to onError; other listeners still run", async () => {
    const errors: unknown[] = [];
    const [client, name] = await open("onerror", { onError: (e) => errors.push(e) });
    const boom = new Error("listener bug");
    const after = deferred<Record<string, unknown>>();
    client.on("notifications/custom", () => {
      throw boom;
    });
    client.on("notifications/custom", (p) => after.resolve(p));
    sessionOf(server, name).notify("notifications/custom", { n: 2 });
    assert.deepEqual(await within(after.promise, "the second listener"), { n: 2 });
    assert.deepEqual(errors, [boom]);
  });

  test("ping both ways", async () => {
    const [client, name] = await open("ping");
    await client.ping();
    await within(sessionOf(server, name).ping(), "the client's answer to ping");
  });

  test("sampling, elicitation and roots handlers answer the server's requests", async () => {
    const sampled: Record<string, unknown>[] = [];
    const elicited: Record<string, unknown>[] = [];
    const [client] = await open("handlers", {
      onSample: (params, ctx) => {
        sampled.push({ ...params, requestIdType: typeof ctx.requestId, aborted: ctx.signal.aborted });
        return { role: "assistant", model: "test-model", content: { type: "text", text: "a summary" } };
      },
      onElicit: async (params) => {
        elicited.push(params);
        await Promise.resolve();
        return { action: "accept", content: { name: "Ada" } };
      },
      onListRoots: () => [{ uri: "file:///work", name: "work" }, { uri: "file:///tmp" }],
    });
    assert.deepEqual(await client.callTool("summarize", { text: "long text" }), {
      content: [{ type: "text", text: "a summary" }],
    });
    assert.equal(sampled.length, 1);
    assert.equal(sampled[0].maxTokens, 100);
    assert.equal(sampled[0].requestIdType, "number");
    assert.equal(sampled[0].aborted, false);
    assert.match(JSON.stringify(sampled[0].messages), /long text/);
    assert.deepEqual(await client.callTool("greet_user"), { content: [{ type: "text", text: "Hello, Ada!" }] });
    assert.equal(elicited[0].mode, "form");
    assert.equal(elicited[0].message, "What is your name?");
    assert.deepEqual(Object.keys((elicited[0].requestedSchema as { properties: object }).properties), ["name"]);
    assert.deepEqual(await client.callTool("list_roots"), {
      content: [{ type: "text", text: "file:///work\nfile:///tmp" }],
    });
  });

  test("a server request without a handler is answered with -32601", async () => {
    const [client, name] = await open("nohandlers");
    const session = sessionOf(server, name);
    for (const method of ["sampling/createMessage", "elicitation/create", "roots/list", "custom/thing"]) {
      await assert.rejects(
        within(session.request(method, {}), method),
        (e: McpError) => e.code === ErrorCode.MethodNotFound && e.message.includes(method),
      );
    }
    // Through a tool: the server sees no capability and the tool reports it.
    const res = await client.callTool("greet_user");
    assert.equal(res.isError, true);
  });

  test("onRequest answers other server requests, with a result or an error", async () => {
    const name = "onrequest";
    const client = await connect(h.url, {
      clientInfo: { name, version: "1" },
      onRequest(method, params) {
        if (method === "custom/fail") throw new McpError(-32099, "nope");
        return { echoed: method, params };
      },
    });
    try {
      const session = sessionOf(server, name);
      assert.deepEqual(await within(session.request("custom/thing", { a: 1 }), "custom/thing"), {
        echoed: "custom/thing",
        params: { a: 1 },
      });
      await assert.rejects(
        within(session.request("custom/fail", {}), "custom/fail"),
        (e: McpError) => e.code === -32099,
      );
      // Sampling still needs its own handler and capability: onRequest declares none.
      assert.equal(session.clientCapabilities.sampling, undefined);
    } finally {
      await client.close();
    }
  });

  test("handler errors become JSON-RPC errors; the server's cancellation aborts a handler", async () => {
    const entered = deferred();
    const aborted = deferred<unknown>();
    const [, name] = await open("handler-errors", {
      onElicit: () => {
        throw new McpClientError(ErrorCode.InvalidParams, "url mode is not supported");
      },
      onListRoots: () => {
        throw new Error("no roots today");
      },
      onSample: (_params, { signal }) => {
        entered.resolve();
        return new Promise((_, reject) => {
          signal.addEventListener("abort", () => (aborted.resolve(signal.reason), reject(signal.reason)));
        });
      },
    });
    const session = sessionOf(server, name);
    await assert.rejects(
      session.request("elicitation/create", { mode: "url", message: "m", url: "https://x", elicitationId: "1" }),
      (e: McpError) => e.code === ErrorCode.InvalidParams && e.message === "url mode is not supported",
    );
    await assert.rejects(
      session.request("roots/list", {}),
      (e: McpError) => e.code === ErrorCode.InternalError && e.message === "no roots today",
    );
    const stop = new AbortController();
    const pending = session.request("sampling/createMessage", { messages: [], maxTokens: 1 }, { signal: stop.signal });
    await within(entered.promise, "the sampling handler to start");
    stop.abort();
    await assert.rejects(pending);
    const reason = await within(aborted.promise, "the handler's signal to abort");
    assert.equal((reason as Error).name, "AbortError");
  });

  test("close(): pending requests reject, closed resolves, later calls reject", async () => {
    const [client] = await open("close");
    const started = deferred();
    const call = client.callTool("slow", { ms: 10_000, steps: 100 }, { onProgress: () => started.resolve() });
    await within(started.promise, "the slow tool to start");
    const rejected = rejectsWith(call, ErrorCode.ConnectionClosed, /closed by the client/);
    await client.close();
    await rejected;
    assert.deepEqual(await client.closed, { code: 1000, reason: "closed by the client" });
    assert.equal(client.state, "closed");
    await rejectsWith(client.ping(), ErrorCode.ConnectionClosed, /closed/);
    await client.close(); // idempotent
  });
});

describe("pagination", () => {
  let h: ServeHandle;
  before(() => {
    const server = new McpServer({ name: "paged", version: "1", pageSize: 2 });
    for (let i = 0; i < 5; i++) {
      server.tool(`t${i}`, {}, () => "");
      server.resource(`r://${i}`, {}, () => "");
      server.prompt(`p${i}`, {}, () => "");
      server.resourceTemplate(`tpl${i}://{x}`, {}, () => "");
    }
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  test("list* returns one page; listAll* follows every cursor", async () => {
    const client = await connect(h.url);
    try {
      const first = await client.listTools();
      assert.deepEqual(first.tools.map((t) => t.name), ["t0", "t1"]);
      assert.equal(typeof first.nextCursor, "string");
      const second = await client.listTools({ cursor: first.nextCursor });
      assert.deepEqual(second.tools.map((t) => t.name), ["t2", "t3"]);
      assert.deepEqual((await client.listAllTools()).map((t) => t.name), ["t0", "t1", "t2", "t3", "t4"]);
      assert.deepEqual((await client.listAllResources()).map((r) => r.uri), [0, 1, 2, 3, 4].map((i) => `r://${i}`));
      assert.deepEqual((await client.listAllPrompts()).map((p) => p.name), ["p0", "p1", "p2", "p3", "p4"]);
      assert.deepEqual(
        (await client.listAllResourceTemplates()).map((t) => t.uriTemplate),
        [0, 1, 2, 3, 4].map((i) => `tpl${i}://{x}`),
      );
      assert.equal((await client.listPrompts()).prompts.length, 2);
      assert.equal((await client.listResources()).resources.length, 2);
      await rejectsWith(client.listTools({ cursor: "garbage" }), ErrorCode.InvalidParams, /cursor/);
    } finally {
      await client.close();
    }
  });
});

describe("connection setup", () => {
  test("a refused connection rejects with a clear error", async () => {
    const port = await closedPort();
    await rejectsWith(connect(`ws://127.0.0.1:${port}/mcp`), ErrorCode.ConnectionClosed, /Could not connect to ws:/);
  });

  test("connecting times out, or is aborted, when the server never answers the upgrade", async () => {
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((s) => (sockets.add(s), s.on("error", () => {})));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (silent.address() as { port: number }).port;
      await rejectsWith(connect(`ws://127.0.0.1:${port}/mcp`, { timeout: 100 }), ErrorCode.RequestTimeout, /100 ms/);
      // An abort signal ends the attempt too.
      const stop = new AbortController();
      const aborted = connect(`ws://127.0.0.1:${port}/mcp`, { signal: stop.signal });
      stop.abort();
      await assert.rejects(within(aborted, "the aborted connect"), (e: Error) => e.name === "AbortError");
      await assert.rejects(connect(`ws://127.0.0.1:${port}/mcp`, { signal: AbortSignal.abort() }), {
        name: "AbortError",
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  test("a URL that is not ws(s) or http(s) is refused", async () => {
    await assert.rejects(connect("ftp://127.0.0.1/mcp"), TypeError);
  });

  test("headers reach the server's authenticate hook", async () => {
    const server = new McpServer({ name: "auth", version: "1" });
    server.tool("whoami", {}, (_args, ctx) => JSON.stringify(ctx.auth));
    const h = start(server, {
      authenticate: (req) => req.headers.get("authorization") === "Bearer s3cret" ? { user: "ada" } : undefined,
    });
    try {
      await rejectsWith(connect(h.url), ErrorCode.ConnectionClosed, /401/);
      const client = await connect(h.url, { headers: { Authorization: "Bearer s3cret" } });
      assert.deepEqual(await client.callTool("whoami"), { content: [{ type: "text", text: '{"user":"ada"}' }] });
      await client.close();
    } finally {
      await h.close({ timeout: 100 });
    }
  });

  test("an http:// URL is accepted as ws://", async () => {
    const h = start(new McpServer({ name: "http", version: "1" }));
    try {
      const client = await connect(h.url.href.replace(/^ws:/, "http:"));
      assert.equal(client.serverInfo.name, "http");
      await client.close();
    } finally {
      await h.close({ timeout: 100 });
    }
  });

  test("notifyRootsListChanged reaches the server", async () => {
    const changed = deferred<string | undefined>();
    const server = new McpServer({
      name: "roots",
      version: "1",
      onRootsListChanged: (s) => changed.resolve(s.clientInfo?.name),
    });
    const h = start(server);
    try {
      const client = await connect(h.url, { clientInfo: { name: "rooted", version: "1" }, onListRoots: () => [] });
      client.notifyRootsListChanged();
      assert.equal(await within(changed.promise, "onRootsListChanged"), "rooted");
      await client.close();
    } finally {
      await h.close({ timeout: 100 });
    }
  });
});

describe("losing the connection", () => {
  test("a server shutdown right after the handshake reaches the client as 1001, not a dropped connection", async () => {
    const h = start(createServer());
    const client = await connect(h.url);
    await h.close({ timeout: 50 });
    assert.deepEqual(await within(client.closed, "closed"), { code: 1001, reason: "server shutting down" });
  });

  test("requests pending when the server closes reject with the close code and reason", async () => {
    const server = createServer();
    const h = start(server);
    const disconnected = deferred<CloseInfo>();
    const client = await connect(h.url, { onDisconnect: (i) => disconnected.resolve(i) });
    try {
      const started = deferred();
      const call = client.callTool("slow", { ms: 10_000, steps: 100 }, { onProgress: () => started.resolve() });
      await within(started.promise, "the slow tool to start");
      const rejected = rejectsWith(call, ErrorCode.ConnectionClosed, /code 1001: server shutting down/i);
      await h.close({ timeout: 50 });
      const err = await rejected;
      assert.match(err.message, /before the answer to tools\/call arrived/);
      const info = await within(client.closed, "closed");
      assert.equal(info.code, 1001);
      assert.match(info.reason, /shutting down/i);
      assert.deepEqual(await disconnected.promise, info);
      assert.equal(client.state, "closed");
      await rejectsWith(client.ping(), ErrorCode.ConnectionClosed);
    } finally {
      await client.close();
      await h.close({ timeout: 100 });
    }
  });

  test("reconnect: after the server restarts on the same port, re-initializes and re-subscribes", async () => {
    const first = createServer();
    let h = start(first);
    const port = h.port;
    const disconnected = deferred<CloseInfo>();
    const reconnected = deferred();
    const updates: string[] = [];
    const updated = deferred();
    const client = await connect(h.url, {
      clientInfo: { name: "phoenix", version: "1" },
      reconnect: { retries: 50, minDelay: 10, maxDelay: 100 },
      onDisconnect: (i) => disconnected.resolve(i),
      onReconnect: () => reconnected.resolve(),
    });
    let second: McpServer | undefined;
    try {
      await client.subscribe("config://app", ({ uri }) => (updates.push(uri), updated.resolve()));
      await client.setLogLevel("debug");
      const started = deferred();
      const inFlight = client.callTool("slow", { ms: 10_000, steps: 100 }, { onProgress: () => started.resolve() });
      await within(started.promise, "the slow tool to start");

      const rejected = rejectsWith(inFlight, ErrorCode.ConnectionClosed, /1001/);
      await h.close({ timeout: 50 });
      await rejected;
      assert.equal((await within(disconnected.promise, "onDisconnect")).code, 1001);
      assert.equal(client.state, "reconnecting");
      // A request made while reconnecting waits for the new connection.
      const queued = client.callTool("add", { a: 2, b: 3 });

      second = createServer();
      h = start(second, { port });
      await within(reconnected.promise, "the reconnection");
      assert.equal(client.state, "open");
      assert.deepEqual(await within(queued, "the queued call"), { content: [{ type: "text", text: "5" }] });
      const session = sessionOf(second, "phoenix");
      assert.ok(session.subscriptions.has("config://app"), "subscription restored");
      assert.equal(session.logLevel, "debug", "log level restored");
      second.resourceUpdated("config://app");
      await within(updated.promise, "the update after reconnecting");
      assert.deepEqual(updates, ["config://app"]);
      assert.equal(client.serverInfo.name, "example");
    } finally {
      await client.close();
      await h.close({ timeout: 100 });
    }
  });

  test("reconnect gives up after its retries; waiting requests reject", async () => {
    const h = start(createServer());
    const disconnected = deferred();
    const client = await connect(h.url, {
      reconnect: { retries: 2, minDelay: 10, maxDelay: 20 },
      onDisconnect: () => disconnected.resolve(),
    });
    try {
      await client.ping(); // the server has read every frame, so its shutdown is a clean 1001
      await h.close({ timeout: 50 });
      await within(disconnected.promise, "onDisconnect");
      const queued = rejectsWith(client.ping(), ErrorCode.ConnectionClosed, /gave up/);
      const info = await within(client.closed, "giving up");
      assert.equal(info.code, 1001);
      assert.match(info.reason, /gave up after 2 attempts to reconnect: Could not connect/);
      await queued;
      assert.equal(client.state, "closed");
    } finally {
      await client.close();
    }
  });

  test("close() while reconnecting stops reconnecting", async () => {
    const h = start(createServer());
    const disconnected = deferred();
    const client = await connect(h.url, {
      reconnect: { retries: 1000, minDelay: 10, maxDelay: 20 },
      onDisconnect: () => disconnected.resolve(),
    });
    await h.close({ timeout: 50 });
    await within(disconnected.promise, "onDisconnect");
    assert.equal(client.state, "reconnecting");
    await client.close();
    assert.equal(client.state, "closed");
    assert.deepEqual(await within(client.closed, "closed"), { code: 1000, reason: "closed by the client" });
  });
});
