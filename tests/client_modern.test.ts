// The WebSocket client (client.ts) speaking protocol 2026-07-28: the server/discover probe and its fallback to
// initialize (against this library's dual-era server, the official SDK's 2025-only server, and hand-made 2025
// servers that stay silent or hang up), per-request _meta, input_required rounds through the client's handlers,
// listen(), reconnection, and the README's example. Real sockets on random ports throughout.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ErrorCode, type McpServer, type ServeHandle, type Session, UrlElicitationRequiredError } from "../mod.ts";
import {
  type CloseInfo,
  connect,
  type ConnectOptions,
  type ElicitAnswer,
  type ElicitParams,
  MAX_INPUT_ROUNDS,
  type McpClient,
} from "../client.ts";
import { createServer } from "../examples/server.ts";
import {
  closedPort,
  deferred,
  type Frame,
  rejectsWith,
  run,
  runtimeName,
  start,
  waitFor,
  within,
} from "./testdata/helpers.ts";
import { handMadeLegacyServer, scriptedServer, type SdkServer, sdkServer } from "./testdata/legacy_server.ts";

const V = "2026-07-28";
const META_VERSION = "io.modelcontextprotocol/protocolVersion";
const META_CAPS = "io.modelcontextprotocol/clientCapabilities";
const META_INFO = "io.modelcontextprotocol/clientInfo";
const META_LEVEL = "io.modelcontextprotocol/logLevel";

/** Every frame the server receives, from every connection. */
function record(server: McpServer): Frame[] {
  const frames: Frame[] = [];
  const connectSession = server.connect.bind(server);
  server.connect = (channel, init) => {
    const session: Session = connectSession(channel, init);
    const receive = session.receive.bind(session);
    session.receive = (text: string) => {
      frames.push(JSON.parse(text));
      receive(text);
    };
    return session;
  };
  return frames;
}

const metaOf = (f: Frame) => (f.params?._meta ?? {}) as Record<string, unknown>;
/** The frames a client named `name` sent (by _meta clientInfo, or initialize's clientInfo). */
const sentBy = (frames: Frame[], name: string) =>
  frames.filter((f) =>
    (metaOf(f)[META_INFO] as { name?: string } | undefined)?.name === name ||
    (f.params?.clientInfo as { name?: string } | undefined)?.name === name
  );

let nextName = 0;
let pageRuns = 0;

// ---------------------------------------------------------------------------

describe("protocol 2026-07-28 against the example server", () => {
  let server: McpServer;
  let frames: Frame[];
  let h: ServeHandle;
  const clients: McpClient[] = [];

  async function open(options: ConnectOptions = {}): Promise<[McpClient, string]> {
    const name = `modern-${++nextName}`;
    const c = await connect(h.url, { clientInfo: { name, version: "1.0.0" }, protocolVersion: V, ...options });
    clients.push(c);
    return [c, name];
  }

  before(() => {
    server = createServer();
    server.tool("logs", {}, (_args, ctx) => {
      ctx.log("debug", "fine detail");
      ctx.log("warning", "careful");
      return "logged";
    });
    server.tool("two_questions", {}, async (_args, ctx) => {
      const first = await ctx.elicit("First?", z.object({ a: z.string() }));
      const second = await ctx.elicit("Second?", z.object({ b: z.number() }));
      if (first.action !== "accept" || second.action !== "accept") return "declined";
      return `${first.content.a}:${second.content.b}`;
    });
    server.tool("unfinished_page", {}, () => {
      pageRuns++;
      throw new UrlElicitationRequiredError({ url: "https://auth.example.com/connect", message: "Connect" });
    });
    server.tool("endless", {}, async (_args, ctx) => {
      for (let i = 0; i < 100; i++) await ctx.elicit(`Question ${i}?`, z.object({ x: z.string() }));
      return "never";
    });
    frames = record(server);
    h = start(server);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await h.close({ timeout: 100 });
  });

  test('"auto" discovers 2026-07-28: server/discover, no initialize; server info from discovery', async () => {
    const [client, name] = await open({ protocolVersion: "auto" });
    assert.equal(client.protocolVersion, V);
    assert.deepEqual(client.serverInfo, { name: "example", version: "1.0.0", title: "Example MCP server" });
    assert.match(client.instructions ?? "", /arithmetic/);
    assert.deepEqual(client.serverCapabilities.tools, { listChanged: true });
    await client.ping();
    const sent = sentBy(frames, name);
    assert.equal(sent[0].method, "server/discover");
    assert.deepEqual(metaOf(sent[0]), {
      [META_VERSION]: V,
      [META_CAPS]: {},
      [META_INFO]: { name, version: "1.0.0" },
    });
    assert.equal(sent.some((f) => f.method === "initialize"), false);
    assert.equal(frames.some((f) => f.method === "notifications/initialized" && sent.includes(f)), false);
  });

  test('"2025-11-25" uses initialize, as does the default', async () => {
    const [pinned, pinnedName] = await open({ protocolVersion: "2025-11-25" });
    const [byDefault, defaultName] = await open({ protocolVersion: undefined });
    for (const [client, name] of [[pinned, pinnedName], [byDefault, defaultName]] as const) {
      assert.equal(client.protocolVersion, "2025-11-25");
      await client.ping();
      const sent = sentBy(frames, name);
      assert.equal(sent[0].method, "initialize");
      assert.equal(sent.some((f) => f.method === "server/discover"), false);
      assert.deepEqual(await client.callTool("add", { a: 1, b: 2 }), { content: [{ type: "text", text: "3" }] });
    }
  });

  test("every request carries version, capabilities from the handlers, and client info in _meta", async () => {
    const [client, name] = await open({
      onSample: () => ({ role: "assistant", model: "m", content: { type: "text", text: "" } }),
      onElicit: () => ({ action: "cancel" }),
      onListRoots: () => [],
      capabilities: { experimental: { x: {} } },
    });
    await client.callTool("add", { a: 1, b: 2 }, { meta: { custom: 1 } });
    const call = sentBy(frames, name).find((f) => f.method === "tools/call")!;
    assert.deepEqual(metaOf(call), {
      [META_VERSION]: V,
      [META_CAPS]: { experimental: { x: {} }, sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
      [META_INFO]: { name, version: "1.0.0" },
      custom: 1,
    });
  });

  test("results have the same shapes as under 2025-11-25 (no resultType, cache hints or serverInfo)", async () => {
    const [modern] = await open();
    const [legacy] = await open({ protocolVersion: "2025-11-25" });
    const both = async <T>(f: (c: McpClient) => Promise<T>) => {
      const [m, l] = await Promise.all([f(modern), f(legacy)]);
      assert.deepEqual(m, l);
      return m;
    };
    assert.equal((await both((c) => c.listTools())).tools.length, 11);
    await both((c) => c.listAllResources());
    await both((c) => c.listAllResourceTemplates());
    await both((c) => c.listAllPrompts());
    assert.deepEqual(await both((c) => c.callTool("add", { a: 20, b: 22 })), {
      content: [{ type: "text", text: "42" }],
    });
    assert.equal((await both((c) => c.callTool("divide", { a: 1, b: 0 }))).isError, true);
    await both((c) => c.readResource("users://grace/profile"));
    await both((c) => c.getPrompt("review_code", { code: "x = 1" }));
    await both((c) =>
      c.complete({ type: "ref/resource", uri: "users://{name}/profile" }, { name: "name", value: "a" })
    );
    await both((c) => c.ping());
    const raw = await modern.request("tools/list");
    assert.equal("resultType" in raw || "ttlMs" in raw || "cacheScope" in raw || "_meta" in raw, false);
    await rejectsWith(modern.callTool("nope"), ErrorCode.InvalidParams, /Unknown tool: nope/);
    await rejectsWith(modern.readResource("nope://x"), ErrorCode.InvalidParams);
  });

  test("elicitation, sampling and roots round-trip through input_required and the handlers", async () => {
    const elicited: Record<string, unknown>[] = [];
    const sampled: Record<string, unknown>[] = [];
    const [client, name] = await open({
      onElicit: (params, ctx) => {
        elicited.push({ ...params, requestId: ctx.requestId, aborted: ctx.signal.aborted });
        return { action: "accept", content: { name: "Ada" } };
      },
      onSample: async (params) => {
        sampled.push(params as unknown as Record<string, unknown>);
        await Promise.resolve();
        return { role: "assistant", model: "test-model", content: { type: "text", text: "a summary" } };
      },
      onListRoots: () => [{ uri: "file:///work", name: "work" }, { uri: "file:///tmp" }],
    });
    assert.deepEqual(await client.callTool("greet_user"), { content: [{ type: "text", text: "Hello, Ada!" }] });
    assert.equal(elicited.length, 1);
    assert.equal(elicited[0].mode, "form");
    assert.equal(elicited[0].message, "What is your name?");
    assert.equal(elicited[0].requestId, "0");
    assert.equal(elicited[0].aborted, false);
    assert.deepEqual(await client.callTool("summarize", { text: "long text" }), {
      content: [{ type: "text", text: "a summary" }],
    });
    assert.equal(sampled[0].maxTokens, 100);
    assert.match(JSON.stringify(sampled[0].messages), /long text/);
    assert.deepEqual(await client.callTool("list_roots"), {
      content: [{ type: "text", text: "file:///work\nfile:///tmp" }],
    });
    // Each call went out twice: the retry carries the answer and the server's requestState, under a new id.
    const calls = sentBy(frames, name).filter((f) => f.method === "tools/call" && f.params!.name === "greet_user");
    assert.equal(calls.length, 2);
    assert.notEqual(calls[0].id, calls[1].id);
    assert.equal(calls[0].params!.inputResponses, undefined);
    assert.deepEqual(calls[1].params!.inputResponses, { "0": { action: "accept", content: { name: "Ada" } } });
    assert.equal(typeof calls[1].params!.requestState, "string");
    // The server sent no request of its own on the socket: everything rode in results.
    assert.equal(frames.some((f) => f.id !== undefined && f.method === undefined && f.result?.action), false);
  });

  test("a handler that asks twice takes two rounds", async () => {
    const asked: string[] = [];
    const [client] = await open({
      onElicit: (params): ElicitAnswer => {
        asked.push(params.message);
        return params.message === "First?"
          ? { action: "accept", content: { a: "x" } }
          : { action: "accept", content: { b: 7 } };
      },
    });
    assert.deepEqual(await client.callTool("two_questions"), { content: [{ type: "text", text: "x:7" }] });
    assert.deepEqual(asked, ["First?", "Second?"]);
  });

  test(`a server that keeps asking is given up on after ${MAX_INPUT_ROUNDS} rounds`, async () => {
    let answered = 0;
    const [client] = await open({ onElicit: () => (answered++, { action: "accept", content: { x: "y" } }) });
    const err = await rejectsWith(
      client.callTool("endless"),
      ErrorCode.InternalError,
      /after 16 rounds of tools\/call/,
    );
    assert.equal(err.method, "tools/call");
    assert.equal(answered, MAX_INPUT_ROUNDS);
  });

  test("no handler: the capability is not declared and the server's -32021 surfaces", async () => {
    const [client] = await open();
    const err = await rejectsWith(
      client.callTool("greet_user"),
      ErrorCode.MissingClientCapability,
      /elicitation\/create needs the client capability/,
    );
    assert.deepEqual(err.data, { requiredCapabilities: { elicitation: { form: {} } } });
    await rejectsWith(client.callTool("summarize", { text: "t" }), ErrorCode.MissingClientCapability, /sampling/);
  });

  test("a capability declared without its handler: a clear error naming the option", async () => {
    const [client] = await open({ capabilities: { elicitation: { form: {} } } });
    await rejectsWith(
      client.callTool("greet_user"),
      ErrorCode.MethodNotFound,
      /asked for elicitation\/create to answer tools\/call, and this client has no handler for it \(give onElicit/,
    );
  });

  test("a handler's error rejects the call; aborting while a handler waits rejects and aborts the handler", async () => {
    const [failing] = await open({
      onElicit: () => {
        throw new Error("the user closed the dialog");
      },
    });
    await assert.rejects(failing.callTool("greet_user"), /the user closed the dialog/);

    const waiting = deferred<AbortSignal>();
    const [client] = await open({
      onElicit: (_params, ctx) => {
        waiting.resolve(ctx.signal);
        return new Promise(() => {}); // a user who never answers
      },
    });
    const stop = new AbortController();
    const call = client.callTool("greet_user", {}, { signal: stop.signal });
    const signal = await within(waiting.promise, "the handler to be called");
    stop.abort();
    await assert.rejects(within(call, "the aborted call"), (e: Error) => e.name === "AbortError");
    assert.equal(signal.aborted, true);
  });

  test("setLogLevel sends nothing; later requests carry the level and logs arrive while they run", async () => {
    const [client, name] = await open();
    const messages: unknown[] = [];
    client.on("notifications/message", (p) => messages.push(p.data));
    await client.callTool("logs");
    assert.deepEqual(messages, [], "no level, no logs");
    await client.setLogLevel("warning");
    assert.deepEqual(await client.callTool("logs"), { content: [{ type: "text", text: "logged" }] });
    assert.deepEqual(messages, ["careful"]);
    const sent = sentBy(frames, name);
    assert.equal(sent.some((f) => f.method === "logging/setLevel"), false);
    assert.equal(metaOf(sent.at(-1)!)[META_LEVEL], "warning");
    await rejectsWith(client.setLogLevel("loud" as "error"), ErrorCode.InvalidParams, /Unknown log level "loud"/);
  });

  test("listen(): acknowledged filter, a list change and a resource update, then stop()", async () => {
    const [client, name] = await open();
    const heard: [string, unknown][] = [];
    const viaOn: string[] = [];
    const changed = deferred();
    const updated = deferred();
    const off = client.on("notifications/tools/list_changed", () => (viaOn.push("tools"), changed.resolve()));
    const listening = await client.listen(
      { toolsListChanged: true, resourceSubscriptions: ["config://app"] },
      (p, msg) => {
        heard.push([msg.method, p.uri]);
        if (msg.method === "notifications/resources/updated") updated.resolve();
      },
    );
    assert.deepEqual(listening.honoured, { toolsListChanged: true, resourceSubscriptions: ["config://app"] });
    const reg = server.tool("late_tool", {}, () => "x");
    await within(changed.promise, "the list change through on()");
    server.resourceUpdated("users://ada/profile"); // not asked for
    server.resourceUpdated("config://app");
    await within(updated.promise, "the resource update");
    assert.deepEqual(heard, [["notifications/tools/list_changed", undefined], [
      "notifications/resources/updated",
      "config://app",
    ]]);
    await listening.stop();
    await listening.stop(); // idempotent
    const listen = sentBy(frames, name).find((f) => f.method === "subscriptions/listen")!;
    assert.deepEqual(listen.params!.notifications, { toolsListChanged: true, resourceSubscriptions: ["config://app"] });
    await client.ping(); // the cancellation has arrived
    const cancel = frames.find((f) => f.method === "notifications/cancelled" && f.params!.requestId === listen.id);
    assert.ok(cancel, "stop() sent notifications/cancelled for the listen");
    reg.remove(); // a list change nobody listens to any more
    await client.ping();
    assert.equal(heard.length, 2);
    assert.deepEqual(viaOn, ["tools"]);
    off();
  });

  test("on() hears a notification once, however many listens bring it; subscribe() after close() rejects", async () => {
    const [client] = await open();
    let onTools = 0;
    let onUpdates = 0;
    const l1 = deferred();
    const l2 = deferred();
    client.on("notifications/tools/list_changed", () => onTools++);
    client.on("notifications/resources/updated", () => onUpdates++);
    const a = await client.listen({ toolsListChanged: true, resourceSubscriptions: ["config://app"] }, (_p, m) => {
      if (m.method === "notifications/resources/updated") l1.resolve();
    });
    const b = await client.listen({ toolsListChanged: true, resourceSubscriptions: ["config://app"] }, (_p, m) => {
      if (m.method === "notifications/resources/updated") l2.resolve();
    });
    const unsubscribe = await client.subscribe("config://app", () => {});
    const reg = server.tool("twice_announced", {}, () => "x");
    server.resourceUpdated("config://app");
    await within(Promise.all([l1.promise, l2.promise]), "both listens got the update");
    await client.ping(); // every copy of both notifications has arrived
    assert.equal(onTools, 1, "one list change heard once by on()");
    assert.equal(onUpdates, 1, "one update heard once by on()");
    reg.remove();
    await unsubscribe();
    await a.stop();
    await b.stop();
    await client.close();
    await rejectsWith(client.subscribe("config://app", () => {}, { timeout: 0 }), ErrorCode.ConnectionClosed, /closed/);
    await rejectsWith(client.listen({ toolsListChanged: true }), ErrorCode.ConnectionClosed, /closed/);
  });

  test("pages to visit asked for again after the answer end the call with -32042, not a loop", async () => {
    const [client] = await open({
      capabilities: { elicitation: { form: {}, url: {} } },
      onElicit: () => ({ action: "accept" }),
    });
    pageRuns = 0;
    const err = await rejectsWith(
      client.callTool("unfinished_page"),
      ErrorCode.UrlElicitationRequired,
      /auth\.example\.com/,
    );
    assert.equal(pageRuns, 2, "one run, one retry after the answer, then the caller decides");
    assert.equal(
      (err.data as { elicitations: { url: string }[] }).elicitations[0].url,
      "https://auth.example.com/connect",
    );
  });

  test("subscribe() under 2026-07-28 is a listen of its own per URI", async () => {
    const [client, name] = await open();
    const updates: string[] = [];
    const got = deferred();
    const unsubscribe = await client.subscribe("config://app", ({ uri }) => (updates.push(uri), got.resolve()));
    server.resourceUpdated("config://app");
    await within(got.promise, "the update");
    await unsubscribe();
    server.resourceUpdated("config://app");
    await client.ping();
    assert.deepEqual(updates, ["config://app"]);
    const sent = sentBy(frames, name);
    assert.deepEqual(sent.find((f) => f.method === "subscriptions/listen")!.params!.notifications, {
      resourceSubscriptions: ["config://app"],
    });
    assert.equal(sent.some((f) => f.method === "resources/subscribe"), false);
  });

  test("listen() under 2025-11-25 subscribes and passes on the announced list changes", async () => {
    const [client, name] = await open({ protocolVersion: "2025-11-25" });
    const heard: string[] = [];
    const both = deferred();
    const listening = await client.listen(
      { promptsListChanged: true, resourceSubscriptions: ["config://app"] },
      (_p, msg) => (heard.push(msg.method), heard.length === 2 && both.resolve()),
    );
    assert.deepEqual(listening.honoured, { promptsListChanged: true, resourceSubscriptions: ["config://app"] });
    const session = [...server.sessions].find((s) => s.clientInfo?.name === name)!;
    assert.ok(session.subscriptions.has("config://app"));
    const reg = server.prompt("late_prompt", {}, () => "x");
    server.resourceUpdated("config://app");
    await within(both.promise, "both notifications");
    assert.deepEqual(heard.sort(), ["notifications/prompts/list_changed", "notifications/resources/updated"]);
    await listening.stop();
    assert.equal(session.subscriptions.has("config://app"), false);
    reg.remove();
  });

  test("URL-mode elicitation reaches onElicit; notifications/elicitation/complete reaches on()", async () => {
    // Over 2025-11-25 the server asks on the connection; the handler sees the same params either way.
    const reg = server.tool("connect_account", {}, async (_args, ctx) => {
      const res = await ctx.session.request("elicitation/create", {
        mode: "url",
        message: "Sign in to continue",
        url: "https://example.com/connect?id=e1",
        elicitationId: "e1",
      }, { relatedTo: ctx.requestId });
      ctx.session.notify("notifications/elicitation/complete", { elicitationId: "e1" });
      return String(res.action);
    });
    const asked: ElicitParams[] = [];
    const completed = deferred<Record<string, unknown>>();
    const [client, name] = await open({
      protocolVersion: "2025-11-25",
      capabilities: { elicitation: { form: {}, url: {} } },
      onElicit: (params) => (asked.push(params), { action: "accept" }),
    });
    client.on("notifications/elicitation/complete", (p) => completed.resolve(p));
    const session = [...server.sessions].find((s) => s.clientInfo?.name === name)!;
    assert.deepEqual(session.clientCapabilities, { elicitation: { form: {}, url: {} } });
    assert.deepEqual(await client.callTool("connect_account"), { content: [{ type: "text", text: "accept" }] });
    assert.deepEqual(asked, [{
      mode: "url",
      message: "Sign in to continue",
      url: "https://example.com/connect?id=e1",
      elicitationId: "e1",
    }]);
    assert.deepEqual(await within(completed.promise, "the completion notice"), { elicitationId: "e1" });
    reg.remove();
  });

  test("bad listen filters are refused before anything is sent", async () => {
    const [client] = await open();
    await assert.rejects(client.listen(null as unknown as object), TypeError);
    await assert.rejects(client.listen({ resourceSubscriptions: "config://app" as unknown as string[] }), TypeError);
  });
});

describe("falling back to initialize", () => {
  let sdk: SdkServer;
  before(async () => (sdk = await sdkServer()));
  after(() => sdk.close());

  test('"auto" against the official SDK\'s 2025 server: its discover error means initialize', async () => {
    const client = await connect(sdk.url, { protocolVersion: "auto" });
    try {
      assert.equal(client.protocolVersion, "2025-11-25");
      assert.equal(client.serverInfo.name, "bench-sdk");
      assert.deepEqual(await client.callTool("echo", { text: "hi" }), { content: [{ type: "text", text: "hi" }] });
    } finally {
      await client.close();
    }
  });

  test('"2026-07-28" against it fails with the reason', async () => {
    await rejectsWith(
      connect(sdk.url, { protocolVersion: V }),
      ErrorCode.MethodNotFound,
      /does not speak protocol 2026-07-28: it answered server\/discover with/,
    );
  });

  test('"auto" against a server that stays silent, or hangs up, on server/discover', async () => {
    for (const how of ["silent", "hang up"] as const) {
      const legacy = await handMadeLegacyServer(how);
      try {
        const client = await connect(legacy.url, { protocolVersion: "auto", timeout: 2000 });
        assert.equal(client.protocolVersion, "2025-06-18", how);
        assert.deepEqual(await client.callTool("anything"), { content: [{ type: "text", text: "legacy" }] });
        await client.close();
        assert.deepEqual(legacy.methods.filter((m) => m !== "tools/call"), [
          "server/discover",
          // A probe that timed out is cancelled, as any request is.
          ...how === "silent" ? ["notifications/cancelled"] : [],
          "initialize",
          "notifications/initialized",
        ], how);
        assert.equal(legacy.connections(), how === "silent" ? 1 : 2, how);
        // Pinned, the same server is an error, not a fallback.
        const pinned = connect(legacy.url, { protocolVersion: V, timeout: how === "silent" ? 300 : 2000 });
        if (how === "silent") await rejectsWith(pinned, ErrorCode.RequestTimeout, /timed out/);
        else await rejectsWith(pinned, ErrorCode.ConnectionClosed, /does not speak protocol 2026-07-28: it closed/);
      } finally {
        await legacy.close();
      }
    }
  });
});

describe("fallback on a generic server error", () => {
  test('"auto": a -32000 answer to server/discover (a 2025 "not initialized") falls back on the same socket', async () => {
    const srv = await scriptedServer(({ method }) => {
      if (method === "server/discover") return { error: { code: -32000, message: "Server not initialized" } };
      if (method === "initialize") {
        return {
          result: {
            protocolVersion: "2025-06-18",
            capabilities: { tools: {} },
            serverInfo: { name: "old", version: "0" },
          },
        };
      }
      return { result: { content: [{ type: "text", text: "legacy" }] } };
    });
    try {
      const client = await connect(srv.url, { protocolVersion: "auto", timeout: 2000 });
      assert.equal(client.protocolVersion, "2025-06-18");
      await client.close();
      assert.equal(srv.connections(), 1, "no second socket: the first was never closed by the server");
      await rejectsWith(
        connect(srv.url, { protocolVersion: V, timeout: 2000 }),
        -32000,
        /answered server\/discover with "Server not initialized"/,
      );
    } finally {
      await srv.close();
    }
  });
});

describe("a 2026-07-28 server that answers oddly", () => {
  const discover = {
    result: {
      resultType: "complete",
      supportedVersions: [V],
      capabilities: { tools: {} },
      _meta: { "io.modelcontextprotocol/serverInfo": { name: "odd", version: "1" } },
    },
  };

  test('-32022 to the probe is a 2026-07-28 server: "auto" does not fall back to initialize', async () => {
    const srv = await scriptedServer(({ method }) =>
      method === "server/discover"
        ? {
          error: {
            code: ErrorCode.UnsupportedProtocolVersion,
            message: "Unsupported protocol version",
            data: { supported: ["2027-01-01"], requested: V },
          },
        }
        : { error: { code: ErrorCode.MethodNotFound, message: "no" } }
    );
    try {
      const err = await rejectsWith(
        connect(srv.url, { protocolVersion: "auto" }),
        ErrorCode.UnsupportedProtocolVersion,
        /does not speak protocol 2026-07-28: it answered server\/discover with "Unsupported protocol version"/,
      );
      assert.deepEqual(err.data, { supported: ["2027-01-01"], requested: V });
      assert.deepEqual(srv.methods, ["server/discover"]);
    } finally {
      await srv.close();
    }
  });

  test("input_required with only a requestState is retried at once; odd results are clear errors", async () => {
    let calls = 0;
    const srv = await scriptedServer(({ method, params }) => {
      if (method === "server/discover") return discover;
      if (params?.name === "later") {
        return ++calls === 1
          ? { result: { resultType: "input_required", requestState: "s1" } }
          : { result: { resultType: "complete", content: [{ type: "text", text: "done" }] } };
      }
      if (params?.name === "task") return { result: { resultType: "task", taskId: "t" } };
      return { result: { resultType: "input_required", inputRequests: { a: { params: {} } } } };
    });
    const client = await connect(srv.url, { protocolVersion: V });
    try {
      assert.deepEqual(client.serverInfo, { name: "odd", version: "1" });
      assert.deepEqual(await client.callTool("later"), { content: [{ type: "text", text: "done" }] });
      const retry = srv.messages.filter((m) => m.method === "tools/call")[1];
      assert.equal(retry.params!.requestState, "s1");
      assert.equal("inputResponses" in retry.params!, false, "nothing was asked, so nothing is answered");
      await rejectsWith(
        client.callTool("task"),
        ErrorCode.InternalError,
        /answered tools\/call with resultType "task", which this client does not know/,
      );
      await rejectsWith(client.callTool("broken"), ErrorCode.InternalError, /input request "a" without a method/);
    } finally {
      await client.close();
      await srv.close();
    }
  });

  test("a listen never acknowledged times out and is cancelled", async () => {
    const srv = await scriptedServer(({ method }) => (method === "server/discover" ? discover : "silent"));
    const client = await connect(srv.url, { protocolVersion: V });
    try {
      await rejectsWith(
        client.listen({ toolsListChanged: true }, undefined, { timeout: 100 }),
        ErrorCode.RequestTimeout,
        /no acknowledgement of subscriptions\/listen within 100 ms/,
      );
      const listen = srv.messages.find((m) => m.method === "subscriptions/listen")!;
      await waitFor(() => srv.methods.includes("notifications/cancelled"), "the cancellation");
      assert.equal(srv.messages.find((m) => m.method === "notifications/cancelled")!.params!.requestId, listen.id);
    } finally {
      await client.close();
      await srv.close();
    }
  });
});

describe("reconnecting under 2026-07-28", () => {
  test("after the server restarts, discovers again, listens and subscribes again, keeps the log level", async () => {
    const first = createServer();
    let h = start(first);
    const port = h.port;
    const disconnected = deferred<CloseInfo>();
    const reconnected = deferred();
    const client = await connect(h.url, {
      protocolVersion: V,
      clientInfo: { name: "phoenix", version: "1" },
      reconnect: { retries: 50, minDelay: 10, maxDelay: 100 },
      onDisconnect: (i) => disconnected.resolve(i),
      onReconnect: () => reconnected.resolve(),
    });
    let second: McpServer | undefined;
    try {
      const changed = deferred();
      const updated = deferred<string>();
      const listening = await client.listen({ toolsListChanged: true }, () => changed.resolve());
      await client.subscribe("config://app", ({ uri }) => updated.resolve(uri));
      await client.setLogLevel("debug");
      await h.close({ timeout: 50 });
      assert.equal((await within(disconnected.promise, "onDisconnect")).code, 1001);
      const queued = client.callTool("add", { a: 2, b: 3 });
      // A listen made while reconnecting goes out once, on the new connection.
      const late = client.listen({ promptsListChanged: true });

      second = createServer();
      const frames = record(second);
      h = start(second, { port });
      await within(reconnected.promise, 10_000, "the reconnection");
      assert.equal(client.protocolVersion, V);
      assert.deepEqual(await within(queued, "the queued call"), { content: [{ type: "text", text: "5" }] });
      const methods = frames.map((f) => f.method);
      assert.equal(methods[0], "server/discover");
      assert.equal(methods.includes("initialize"), false);
      assert.deepEqual((await within(late, "the listen made while reconnecting")).honoured, {
        promptsListChanged: true,
      });
      const listens = frames.filter((f) => f.method === "subscriptions/listen").length;
      assert.equal(listens, 3, "two restored, one new");
      assert.equal(metaOf(frames.find((f) => f.method === "tools/call")!)[META_LEVEL], "debug");
      assert.deepEqual(listening.honoured, { toolsListChanged: true });
      second.tool("after_restart", {}, () => "x");
      await within(changed.promise, "the list change after reconnecting");
      second.resourceUpdated("config://app");
      assert.equal(await within(updated.promise, "the update after reconnecting"), "config://app");
    } finally {
      await client.close();
      await h.close({ timeout: 100 });
    }
  });
});

test("the README's 2026-07-28 client example runs as written against the example server", async () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const blocks = [...readFileSync(`${root}README.md`, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const found = blocks.filter((b) => b.includes(`protocolVersion: "auto"`) && b.includes("client.listen("));
  assert.equal(found.length, 1, "one README block shows the 2026-07-28 client");
  const port = await closedPort();
  const h = start(createServer(), { port });
  const dir = `${root}.tmp-client-modern-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  try {
    const file = `${dir}/example.ts`;
    writeFileSync(file, found[0].replaceAll(`"./client.ts"`, `"../client.ts"`).replaceAll("8080", String(port)));
    const r = await run(process.execPath, runtimeName === "bun" ? ["run", file] : ["run", "-A", file], {
      cwd: root,
      timeout: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    // Bun prints objects over several lines, Deno on one.
    const out = r.stdout.replace(/\s+/g, " ");
    assert.match(out, /^2026-07-28 What is your name\? \[ \{ type: "text", text: "Hello, Ada!",? \} \] /);
    assert.match(out, /\{ toolsListChanged: true, resourceSubscriptions: \[ "config:\/\/app" \],? \}/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await h.close({ timeout: 100 });
  }
});
