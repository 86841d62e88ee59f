// Tasks (issue 14): 2025-11-25 tasks/* over WebSocket, Streamable HTTP and stdio, driven by raw JSON-RPC and by the
// official SDK client's experimental tasks support; the 2026-07-28 extension over WebSocket and HTTP; and the
// bounds: a cap on unfinished tasks, the time to live, and tasks that belong to their principal.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { WebSocketClientTransport } from "@modelcontextprotocol/sdk/client/websocket.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  broadcastCluster,
  ErrorCode,
  McpError,
  McpServer,
  memoryTaskStore,
  type ServeHandle,
  type TaskRecord,
  type TaskStore,
  UrlElicitationRequiredError,
} from "../mod.ts";
import { coreOf } from "../server.ts";
import { serveStdio } from "../transport_stdio.ts";
import { createServer } from "../examples/server.ts";
import { deferred, type Frame, RawClient, sseMessages, start } from "./testdata/helpers.ts";
import { newSdkClient } from "./testdata/sdk_client.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RELATED = "io.modelcontextprotocol/related-task";
const EXT = "io.modelcontextprotocol/tasks";
const V = "2026-07-28";

/** A short wait between two polls of a task's status. */
const pause = () => new Promise((r) => setTimeout(r, 10));

/** Tools for every case: a gate the test opens, questions to the client, a tool error, a protocol error. */
function build(
  options: ConstructorParameters<typeof McpServer>[0]["tasks"] = {},
  extra: Partial<ConstructorParameters<typeof McpServer>[0]> = {},
) {
  const server = new McpServer({ name: "tasks", version: "1.0.0", tasks: options, ...extra });
  const gates = new Map<string, ReturnType<typeof deferred<string>>>();
  const aborted = new Map<string, ReturnType<typeof deferred<unknown>>>();
  const gate = (k: string) => {
    if (!gates.has(k)) gates.set(k, deferred<string>());
    return gates.get(k)!;
  };
  const abortOf = (k: string) => {
    if (!aborted.has(k)) aborted.set(k, deferred<unknown>());
    return aborted.get(k)!;
  };
  server.tool("gated", { task: "optional", input: z.object({ key: z.string() }) }, async ({ key }, ctx) => {
    ctx.signal.addEventListener("abort", () => abortOf(key).resolve(ctx.signal.reason), { once: true });
    ctx.progress(1, 2, "started");
    const text = await gate(key).promise;
    ctx.progress(2, 2, "done");
    ctx.log("info", `finished ${key}`);
    return text;
  });
  server.tool("must", { task: "required" }, () => "ran as a task");
  server.tool("my_id", { task: "optional" }, (_args, ctx) => ctx.taskId ?? "no task");
  let visited = false;
  server.tool("needs_page", { task: "optional" }, () => {
    if (!visited) {
      visited = true; // the user is on the page now; once the client answers, the next run finds it done
      throw new UrlElicitationRequiredError({ url: "https://auth.example.com/connect", message: "Connect" });
    }
    return "connected";
  });
  server.tool("plain", {}, () => "plain");
  server.tool("ask", { task: "optional" }, async (_args, ctx) => {
    const first = await ctx.elicit("Name?", z.object({ name: z.string() }));
    const second = await ctx.elicit("Age?", z.object({ age: z.number() }));
    if (first.action !== "accept" || second.action !== "accept") return "declined";
    return `${first.content.name} is ${second.content.age}`;
  });
  server.tool("greet", { task: "optional" }, async (_args, ctx) => {
    const a = await ctx.elicit("Name?", z.object({ name: z.string() }));
    return a.action === "accept" ? `Hello, ${a.content.name}!` : a.action;
  });
  server.tool("link", { task: "optional" }, async (_args, ctx) => {
    const r = await ctx.elicitUrl("Sign in", "https://auth.example.com/start");
    return `${r.action} ${r.elicitationId}`;
  });
  server.tool("sample", { task: "optional" }, async (_args, ctx) => {
    const r = await ctx.sample({ messages: [{ role: "user", content: { type: "text", text: "hi" } }], maxTokens: 5 });
    return `model ${r.model}`;
  });
  server.tool("oops", { task: "optional" }, () => {
    throw new Error("the tool failed");
  });
  server.tool("capless", { task: "optional" }, () => {
    // One of the errors a client sees as a JSON-RPC error even from a tool.
    throw new McpError(ErrorCode.MissingClientCapability, "needs roots", { requiredCapabilities: { roots: {} } });
  });
  return { server, gate, abortOf };
}

const ok = (f: Frame) => {
  assert.equal(f.error, undefined, JSON.stringify(f.error));
  return f.result;
};

describe("tasks, 2025-11-25, over WebSocket", () => {
  let h: ServeHandle;
  let t: ReturnType<typeof build>;
  let c: RawClient;
  before(async () => {
    t = build();
    h = start(t.server);
    c = await RawClient.ready(h.url, { elicitation: { form: {} }, sampling: {} });
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  test("initialize advertises tasks, tools/list each tool's taskSupport", async () => {
    const c2 = await RawClient.connect(h.url);
    const init = ok(
      await c2.request("initialize", {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "x", version: "1" },
      }),
    );
    assert.deepEqual(init.capabilities.tasks, { list: {}, cancel: {}, requests: { tools: { call: {} } } });
    c2.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const tools = ok(await c2.request("tools/list")).tools as { name: string; execution?: unknown }[];
    const by = Object.fromEntries(tools.map((x) => [x.name, x.execution]));
    assert.deepEqual(by.gated, { taskSupport: "optional" });
    assert.deepEqual(by.must, { taskSupport: "required" });
    assert.equal(by.plain, undefined);
    await c2.close();
  });

  test("a task-augmented call answers with a working task; tasks/result waits for the end and returns the result", async () => {
    const created = ok(
      await c.request("tools/call", {
        name: "gated",
        arguments: { key: "a" },
        task: { ttl: 60_000 },
        _meta: { progressToken: "p" },
      }),
    ).task;
    assert.equal(created.status, "working");
    assert.equal(created.ttl, 60_000);
    assert.equal(typeof created.pollInterval, "number");
    assert.match(created.taskId, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(!Number.isNaN(Date.parse(created.createdAt)) && created.createdAt === created.lastUpdatedAt);
    // Progress carries the original token and the task.
    const progress = await c.notification("notifications/progress");
    assert.equal(progress.params!.progressToken, "p");
    assert.deepEqual((progress.params!._meta as Record<string, unknown>)[RELATED], { taskId: created.taskId });
    assert.equal(ok(await c.request("tasks/get", { taskId: created.taskId })).status, "working");
    c.send({ jsonrpc: "2.0", id: "r1", method: "tasks/result", params: { taskId: created.taskId } });
    t.gate("a").resolve("opened");
    const result = ok(await c.next((f) => f.id === "r1"));
    assert.deepEqual(result.content, [{ type: "text", text: "opened" }]);
    assert.deepEqual(result._meta[RELATED], { taskId: created.taskId });
    const status = await c.next((f) => f.method === "notifications/tasks/status" && f.params?.status === "completed");
    assert.equal(status.params!.taskId, created.taskId);
    const done = ok(await c.request("tasks/get", { taskId: created.taskId }));
    assert.equal(done.status, "completed");
    assert.ok(Date.parse(done.lastUpdatedAt) >= Date.parse(done.createdAt));
    // The result can be fetched again until the task expires.
    assert.deepEqual(ok(await c.request("tasks/result", { taskId: created.taskId })).content, result.content);
  });

  test("questions to the client ride on tasks/result, tagged with the task, while the task shows input_required", async () => {
    const { taskId } = ok(await c.request("tools/call", { name: "ask", arguments: {}, task: {} })).task;
    await c.next((f) =>
      f.method === "notifications/tasks/status" && f.params?.taskId === taskId && f.params?.status === "input_required"
    );
    assert.equal(ok(await c.request("tasks/get", { taskId })).status, "input_required");
    c.send({ jsonrpc: "2.0", id: "r2", method: "tasks/result", params: { taskId } });
    const q1 = await c.next((f) => f.method === "elicitation/create");
    assert.deepEqual((q1.params!._meta as Record<string, unknown>)[RELATED], { taskId });
    c.send({ jsonrpc: "2.0", id: q1.id, result: { action: "accept", content: { name: "Ada" } } });
    const q2 = await c.next((f) => f.method === "elicitation/create");
    assert.equal(q2.params!.message, "Age?");
    c.send({ jsonrpc: "2.0", id: q2.id, result: { action: "accept", content: { age: 36 } } });
    assert.deepEqual(ok(await c.next((f) => f.id === "r2")).content, [{ type: "text", text: "Ada is 36" }]);
  });

  test("a URL elicitation inside a task rides on tasks/result too", async () => {
    const u = await RawClient.ready(h.url, { elicitation: { url: {} } });
    const { taskId } = ok(await u.request("tools/call", { name: "link", arguments: {}, task: {} })).task;
    u.send({ jsonrpc: "2.0", id: "u1", method: "tasks/result", params: { taskId } });
    const q = await u.next((f) => f.method === "elicitation/create");
    assert.equal(q.params!.mode, "url");
    assert.equal(q.params!.url, "https://auth.example.com/start");
    assert.deepEqual((q.params!._meta as Record<string, unknown>)[RELATED], { taskId });
    u.send({ jsonrpc: "2.0", id: q.id, result: { action: "accept" } });
    const text = (ok(await u.next((f) => f.id === "u1")).content as { text: string }[])[0].text;
    assert.equal(text, `accept ${q.params!.elicitationId}`);
    await u.close();
  });

  test("ctx.taskId names the task inside one, and is undefined in a plain call", async () => {
    const { taskId } = ok(await c.request("tools/call", { name: "my_id", arguments: {}, task: {} })).task;
    assert.deepEqual(ok(await c.request("tasks/result", { taskId })).content, [{ type: "text", text: taskId }]);
    assert.deepEqual(ok(await c.request("tools/call", { name: "my_id", arguments: {} })).content, [
      { type: "text", text: "no task" },
    ]);
  });

  test("sampling inside a task", async () => {
    const { taskId } = ok(await c.request("tools/call", { name: "sample", arguments: {}, task: {} })).task;
    c.send({ jsonrpc: "2.0", id: "r3", method: "tasks/result", params: { taskId } });
    const q = await c.next((f) => f.method === "sampling/createMessage");
    c.send({
      jsonrpc: "2.0",
      id: q.id,
      result: { role: "assistant", model: "m1", content: { type: "text", text: "4" } },
    });
    assert.deepEqual(ok(await c.next((f) => f.id === "r3")).content, [{ type: "text", text: "model m1" }]);
  });

  test("tasks/cancel aborts the handler and leaves the task cancelled; a second cancel is refused", async () => {
    const { taskId } = ok(await c.request("tools/call", { name: "gated", arguments: { key: "c" }, task: {} })).task;
    c.send({ jsonrpc: "2.0", id: "r4", method: "tasks/result", params: { taskId } });
    const cancelled = ok(await c.request("tasks/cancel", { taskId }));
    assert.equal(cancelled.status, "cancelled");
    assert.equal(cancelled.taskId, taskId);
    const reason = await t.abortOf("c").promise;
    assert.equal((reason as Error).name, "AbortError");
    // The waiting tasks/result ends with an error, and so does any later one.
    assert.equal((await c.next((f) => f.id === "r4")).error?.code, ErrorCode.InvalidRequest);
    t.gate("c").resolve("too late"); // the handler finishing after all does not undo the cancellation
    assert.equal(ok(await c.request("tasks/get", { taskId })).status, "cancelled");
    const again = await c.request("tasks/cancel", { taskId });
    assert.equal(again.error?.code, ErrorCode.InvalidParams);
    assert.match(again.error!.message, /terminal status 'cancelled'/);
  });

  test("a tool error fails the task (2025-11-25), and tasks/result returns the tool's result", async () => {
    const { taskId } = ok(await c.request("tools/call", { name: "oops", arguments: {}, task: {} })).task;
    const res = ok(await c.request("tasks/result", { taskId }));
    assert.equal(res.isError, true);
    assert.deepEqual(res.content, [{ type: "text", text: "the tool failed" }]);
    assert.equal(ok(await c.request("tasks/get", { taskId })).status, "failed");
  });

  test("a protocol error inside a task fails it, and tasks/result returns that error", async () => {
    const { taskId } = ok(await c.request("tools/call", { name: "capless", arguments: {}, task: {} })).task;
    const res = await c.request("tasks/result", { taskId });
    assert.deepEqual(res.error, {
      code: ErrorCode.MissingClientCapability,
      message: "needs roots",
      data: { requiredCapabilities: { roots: {} } },
    });
    const task = ok(await c.request("tasks/get", { taskId }));
    assert.equal(task.status, "failed");
    assert.match(task.statusMessage, /roots/);
  });

  test("tasks/list pages over this session's tasks, and only them", async () => {
    const listed = ok(await c.request("tasks/list", {})).tasks as { taskId: string }[];
    assert.ok(listed.length >= 5);
    const other = await RawClient.ready(h.url);
    const mine = ok(await other.request("tools/call", { name: "must", arguments: {}, task: {} })).task;
    assert.deepEqual((ok(await other.request("tasks/list", {})).tasks as { taskId: string }[]).map((x) => x.taskId), [
      mine.taskId,
    ]);
    assert.ok(!listed.some((x) => x.taskId === mine.taskId));
    await other.close();
  });

  test("refusals: a task of a tool that forbids it, a required task not asked for, unknown ids, a bad ttl", async () => {
    const forbidden = await c.request("tools/call", { name: "plain", arguments: {}, task: {} });
    assert.equal(forbidden.error?.code, ErrorCode.MethodNotFound);
    const required = await c.request("tools/call", { name: "must", arguments: {} });
    assert.equal(required.error?.code, ErrorCode.MethodNotFound);
    assert.match(required.error!.message, /params\.task/);
    for (const method of ["tasks/get", "tasks/result", "tasks/cancel"]) {
      const res = await c.request(method, { taskId: "no-such-task" });
      assert.equal(res.error?.code, ErrorCode.InvalidParams, method);
      assert.match(res.error!.message, /Task not found/);
    }
    assert.equal((await c.request("tasks/get", {})).error?.code, ErrorCode.InvalidParams);
    const ttl = await c.request("tools/call", { name: "gated", arguments: { key: "x" }, task: { ttl: "soon" } });
    assert.equal(ttl.error?.code, ErrorCode.InvalidParams);
    const shape = await c.request("tools/call", { name: "gated", arguments: { key: "x" }, task: 5 });
    assert.equal(shape.error?.code, ErrorCode.InvalidParams);
    assert.equal((await c.request("tasks/list", { cursor: "bogus" })).error?.code, ErrorCode.InvalidParams);
  });

  test("a task outlives its connection: another connection gets its result by id", async () => {
    const first = await RawClient.ready(h.url);
    const { taskId } = ok(await first.request("tools/call", { name: "gated", arguments: { key: "d" }, task: {} })).task;
    await first.close();
    const second = await RawClient.ready(h.url);
    assert.equal(ok(await second.request("tasks/get", { taskId })).status, "working");
    t.gate("d").resolve("after the close");
    assert.deepEqual(ok(await second.request("tasks/result", { taskId })).content, [
      { type: "text", text: "after the close" },
    ]);
    await second.close();
  });

  test("a question asked after the task's connection closed goes to the connection waiting on tasks/result", async () => {
    const first = await RawClient.ready(h.url, { elicitation: { form: {} } });
    const { taskId } = ok(await first.request("tools/call", { name: "greet", arguments: {}, task: {} })).task;
    await first.notification("notifications/tasks/status"); // input_required: the question waits for a tasks/result
    await first.close();
    const second = await RawClient.ready(h.url, { elicitation: { form: {} } });
    second.send({ jsonrpc: "2.0", id: "late", method: "tasks/result", params: { taskId } });
    const q = await second.next((f) => f.method === "elicitation/create");
    assert.deepEqual((q.params!._meta as Record<string, unknown>)[RELATED], { taskId });
    second.send({ jsonrpc: "2.0", id: q.id, result: { action: "accept", content: { name: "Cy" } } });
    assert.deepEqual(ok(await second.next((f) => f.id === "late")).content, [{ type: "text", text: "Hello, Cy!" }]);
    await second.close();
  });

  test("protocol 2025-06-18 has no tasks: params.task is ignored and tasks/* do not exist", async () => {
    const old = await RawClient.ready(h.url, {}, "2025-06-18");
    const res = ok(await old.request("tools/call", { name: "must", arguments: {}, task: {} }));
    assert.deepEqual(res.content, [{ type: "text", text: "ran as a task" }]);
    assert.equal((await old.request("tasks/get", { taskId: "x" })).error?.code, ErrorCode.MethodNotFound);
    await old.close();
  });
});

describe("tasks: bounds and ownership", () => {
  test("at most maxRunning unfinished tasks per session; a finished one frees its place", async () => {
    const t = build({ maxRunning: 2 });
    const h = start(t.server);
    const c = await RawClient.ready(h.url);
    try {
      const call = (key: string) => c.request("tools/call", { name: "gated", arguments: { key }, task: {} });
      ok(await call("1"));
      ok(await call("2"));
      const third = await call("3");
      assert.equal(third.error?.code, ErrorCode.ServerBusy);
      assert.match(third.error!.message, /at most 2/);
      // Another session has its own allowance.
      const other = await RawClient.ready(h.url);
      ok(await other.request("tools/call", { name: "must", arguments: {}, task: {} }));
      await other.close();
      t.gate("1").resolve("done");
      const deadline = Date.now() + 5000;
      let res = await call("4");
      while (res.error && Date.now() < deadline) (await pause(), res = await call("4"));
      ok(res);
    } finally {
      for (const k of ["2", "4"]) t.gate(k).resolve("end");
      await c.close();
      await h.close({ timeout: 100 });
    }
  });

  test("a task lives its ttl, cut to maxTtl: then its handler is aborted and the task is gone", async () => {
    const t = build({ maxTtl: 300, defaultTtl: 300 });
    const h = start(t.server);
    const c = await RawClient.ready(h.url);
    try {
      const { taskId, ttl } = ok(
        await c.request("tools/call", { name: "gated", arguments: { key: "e" }, task: { ttl: 3_600_000 } }),
      ).task;
      assert.equal(ttl, 300);
      c.send({ jsonrpc: "2.0", id: "w", method: "tasks/result", params: { taskId } });
      const reason = await t.abortOf("e").promise;
      assert.match(String((reason as Error).message), /time to live/);
      assert.match((await c.next((f) => f.id === "w")).error!.message, /expired/);
      assert.equal((await c.request("tasks/get", { taskId })).error?.code, ErrorCode.InvalidParams);
    } finally {
      await c.close();
      await h.close({ timeout: 100 });
    }
  });

  test("options are checked when the server is made", () => {
    assert.throws(() => build({ maxTtl: 0 }), /tasks\.maxTtl/);
    assert.throws(() => build({ defaultTtl: 5000, maxTtl: 1000 }), /defaultTtl/);
    assert.throws(() => memoryTaskStore({ maxRecords: 0 }), /maxRecords/);
    assert.throws(() => memoryTaskStore({ maxPerOwner: 0 }), /maxPerOwner/);
    const server = new McpServer({ name: "x", version: "1" });
    assert.throws(() => server.tool("t", { task: "sometimes" as "optional" }, () => ""), /task must be/);
  });

  test("the memory store keeps at most maxRecords, dropping finished tasks first", async () => {
    const t = build({ store: memoryTaskStore({ maxRecords: 2 }) });
    const h = start(t.server);
    const c = await RawClient.ready(h.url);
    try {
      const a = ok(await c.request("tools/call", { name: "must", arguments: {}, task: {} })).task;
      await c.request("tasks/result", { taskId: a.taskId });
      ok(await c.request("tools/call", { name: "gated", arguments: { key: "m1" }, task: {} }));
      ok(await c.request("tools/call", { name: "gated", arguments: { key: "m2" }, task: {} }));
      assert.equal((await c.request("tasks/get", { taskId: a.taskId })).error?.code, ErrorCode.InvalidParams);
      const full = await c.request("tools/call", { name: "gated", arguments: { key: "m3" }, task: {} });
      assert.match(full.error!.message, /task store is full/);
    } finally {
      for (const k of ["m1", "m2"]) t.gate(k).resolve("end");
      await c.close();
      await h.close({ timeout: 100 });
    }
  });

  test("one owner's flood of quick tasks never costs another owner its unread result", async () => {
    const t = build({ store: memoryTaskStore({ maxRecords: 3, maxPerOwner: 2 }) });
    const h = start(t.server);
    const alice = await RawClient.ready(h.url);
    const bob = await RawClient.ready(h.url);
    try {
      const mine = ok(await alice.request("tools/call", { name: "must", arguments: {}, task: {} })).task;
      for (let i = 0; i < 5; i++) {
        const { taskId } = ok(await bob.request("tools/call", { name: "must", arguments: {}, task: {} })).task;
        await bob.request("tasks/result", { taskId });
      }
      assert.deepEqual(ok(await alice.request("tasks/result", { taskId: mine.taskId })).content, [
        { type: "text", text: "ran as a task" },
      ]);
      assert.equal((ok(await bob.request("tasks/list", {})).tasks as unknown[]).length, 2, "bob keeps his newest two");
      // An owner whose records are all unfinished is refused, with a message that says so.
      ok(await bob.request("tools/call", { name: "gated", arguments: { key: "f1" }, task: {} }));
      ok(await bob.request("tools/call", { name: "gated", arguments: { key: "f2" }, task: {} }));
      const refused = await bob.request("tools/call", { name: "gated", arguments: { key: "f3" }, task: {} });
      assert.match(refused.error!.message, /holds 2 tasks, none of them final/);
    } finally {
      for (const k of ["f1", "f2"]) t.gate(k).resolve("end");
      await alice.close();
      await bob.close();
      await h.close({ timeout: 100 });
    }
  });

  test("principals whose auth serializes to nothing distinctive do not share tasks", async () => {
    class User {
      #name: string;
      constructor(name: string) {
        this.#name = name;
      }
      get name() {
        return this.#name;
      }
    }
    const users = new Map([["alice", new User("alice")], ["mallory", new User("mallory")]]);
    const t = build();
    const h = start(t.server, { authenticate: (req) => users.get(req.headers.get("x-user") ?? "") });
    try {
      const call = async (user: string, method: string, params: Record<string, unknown>) => {
        const res = await fetch(h.httpUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "x-user": user,
            "mcp-protocol-version": V,
            "mcp-method": method,
          },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method,
            params: {
              ...params,
              _meta: {
                "io.modelcontextprotocol/protocolVersion": V,
                "io.modelcontextprotocol/clientCapabilities": { extensions: { [EXT]: {} } },
              },
            },
          }),
        });
        const text = await res.text();
        return res.headers.get("content-type")?.startsWith("text/event-stream")
          ? sseMessages(text).find((m) => m.id === 1)!
          : JSON.parse(text);
      };
      const { taskId } = ok(await call("alice", "tools/call", { name: "must", arguments: {} }));
      assert.equal((await call("mallory", "tasks/get", { taskId })).error?.code, ErrorCode.InvalidParams);
      assert.equal(ok(await call("alice", "tasks/get", { taskId })).taskId, taskId);
    } finally {
      await h.close({ timeout: 100 });
    }
  });

  test("a store that writes slowly still ends with the final state, and tasks/result never sees a stale one", async () => {
    const inner = memoryTaskStore();
    const writes: string[] = [];
    const slow: TaskStore = {
      get: (id) => inner.get(id),
      delete: (id) => inner.delete(id),
      list: (owner, session) => inner.list!(owner, session),
      // "working" writes take longest: unserialized, one would land after "completed".
      set: (record: TaskRecord, ttl: number) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            writes.push(record.status);
            resolve(inner.set(record, ttl) as void);
          }, record.status === "working" ? 80 : 20)
        ),
    };
    const t = build({ store: slow });
    const h = start(t.server);
    const c = await RawClient.ready(h.url, { elicitation: { form: {} } });
    try {
      const { taskId } = ok(await c.request("tools/call", { name: "greet", arguments: {}, task: {} })).task;
      c.send({ jsonrpc: "2.0", id: "g", method: "tasks/result", params: { taskId } });
      const q = await c.next((f) => f.method === "elicitation/create");
      c.send({ jsonrpc: "2.0", id: q.id, result: { action: "accept", content: { name: "Di" } } });
      assert.deepEqual(ok(await c.next((f) => f.id === "g")).content, [{ type: "text", text: "Hello, Di!" }]);
      assert.equal(writes.at(-1), "completed", writes.join(" -> "));
      assert.equal((await inner.get(taskId))?.status, "completed");
      // A task that ends at once: tasks/result while its final write is under way gets the result.
      const quick = ok(await c.request("tools/call", { name: "must", arguments: {}, task: {} })).task;
      assert.deepEqual(ok(await c.request("tasks/result", { taskId: quick.taskId })).content, [
        { type: "text", text: "ran as a task" },
      ]);
    } finally {
      await c.close();
      await h.close({ timeout: 100 });
    }
  });

  test("close() answers a waiting tasks/result, aborts the tasks still running and marks them failed", async () => {
    const store = memoryTaskStore();
    const t = build({ store });
    const h = start(t.server);
    const c = await RawClient.ready(h.url);
    const { taskId } = ok(await c.request("tools/call", { name: "gated", arguments: { key: "z" }, task: {} })).task;
    c.send({ jsonrpc: "2.0", id: "w", method: "tasks/result", params: { taskId } });
    await c.request("ping"); // the tasks/result is in
    const closing = h.close({ timeout: 60_000 });
    const answer = await c.next((f) => f.id === "w");
    assert.match(answer.error!.message, /shut down before the task ended/);
    await closing;
    await t.abortOf("z").promise;
    const record = await store.get(taskId);
    assert.equal(record?.status, "failed");
    assert.match(record!.statusMessage!, /shut down/);
  });

  test("the end of one transport (stdio) leaves the tasks of another (WebSocket) running", async () => {
    const t = build();
    const h = start(t.server);
    let end!: () => void;
    const input = new ReadableStream<Uint8Array>({ start: (ctrl) => void (end = () => ctrl.close()) });
    const stdio = serveStdio(t.server, { input, output: new WritableStream(), redirectConsole: false });
    const c = await RawClient.ready(h.url);
    try {
      const { taskId } = ok(await c.request("tools/call", { name: "gated", arguments: { key: "s" }, task: {} })).task;
      end();
      await stdio.closed;
      assert.equal(ok(await c.request("tasks/get", { taskId })).status, "working");
      t.gate("s").resolve("still ran");
      assert.deepEqual(ok(await c.request("tasks/result", { taskId })).content, [{ type: "text", text: "still ran" }]);
    } finally {
      await c.close();
      await h.close({ timeout: 100 });
    }
  });

  test("a server that offers no tasks ignores params.task (2025-11-25)", async () => {
    const server = new McpServer({ name: "plain", version: "1" });
    server.tool("plain", {}, () => "plain");
    const h = start(server);
    const c = await RawClient.ready(h.url);
    try {
      const init = await RawClient.connect(h.url);
      const caps = ok(
        await init.request("initialize", {
          protocolVersion: "2025-11-25",
          capabilities: {},
          clientInfo: { name: "x", version: "1" },
        }),
      ).capabilities;
      assert.equal(caps.tasks, undefined);
      await init.close();
      assert.deepEqual(ok(await c.request("tools/call", { name: "plain", arguments: {}, task: {} })).content, [
        { type: "text", text: "plain" },
      ]);
    } finally {
      await c.close();
      await h.close({ timeout: 100 });
    }
  });

  test("over HTTP a task belongs to its principal: another one gets 'not found' and an empty list", async () => {
    const t = build();
    const h = start(t.server, { authenticate: (req) => req.headers.get("x-user") ?? undefined });
    try {
      const session = async (user: string) => {
        const res = await fetch(h.httpUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "x-user": user,
          },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "initialize",
            params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: user, version: "1" } },
          }),
        });
        await res.text();
        const headers = {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "x-user": user,
          "mcp-session-id": res.headers.get("mcp-session-id")!,
          "mcp-protocol-version": "2025-11-25",
        };
        await fetch(h.httpUrl, {
          method: "POST",
          headers,
          body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
        });
        let id = 1;
        return async (method: string, params: Record<string, unknown>) => {
          const r = await fetch(h.httpUrl, {
            method: "POST",
            headers,
            body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
          });
          const body = await r.text();
          const msgs = r.headers.get("content-type")?.startsWith("text/event-stream")
            ? sseMessages(body)
            : [JSON.parse(body)];
          return msgs.find((m) => m.id === id)!;
        };
      };
      const alice = await session("alice");
      const bob = await session("bob");
      const alice2 = await session("alice"); // a second session of the same principal
      const { taskId } = ok(await alice("tools/call", { name: "must", arguments: {}, task: {} })).task;
      assert.deepEqual(ok(await alice2("tasks/result", { taskId })).content, [{ type: "text", text: "ran as a task" }]);
      for (const method of ["tasks/get", "tasks/result", "tasks/cancel"]) {
        const res = await bob(method, { taskId });
        assert.equal(res.error?.code, ErrorCode.InvalidParams, method);
      }
      assert.deepEqual(ok(await bob("tasks/list", {})).tasks, []);
      assert.deepEqual((ok(await alice2("tasks/list", {})).tasks as { taskId: string }[]).map((x) => x.taskId), [
        taskId,
      ]);
    } finally {
      await h.close({ timeout: 100 });
    }
  });
});

describe("tasks, 2026-07-28 extension", () => {
  let h: ServeHandle;
  let t: ReturnType<typeof build>;
  let c: RawClient;
  const meta = (caps: Record<string, unknown> = { elicitation: { form: {} }, extensions: { [EXT]: {} } }) => ({
    "io.modelcontextprotocol/protocolVersion": V,
    "io.modelcontextprotocol/clientCapabilities": caps,
  });
  before(async () => {
    t = build();
    h = start(t.server);
    c = await RawClient.connect(h.url);
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  /** One request over WebSocket or over HTTP (a POST of its own, no session). */
  const over = (transport: "ws" | "http") => async (method: string, params: Record<string, unknown>) => {
    if (transport === "ws") return await c.request(method, { ...params, _meta: params._meta ?? meta() });
    const body = { jsonrpc: "2.0", id: 1, method, params: { ...params, _meta: params._meta ?? meta() } };
    const res = await fetch(h.httpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": V,
        "mcp-method": method,
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    const msgs = res.headers.get("content-type")?.startsWith("text/event-stream")
      ? sseMessages(text)
      : [JSON.parse(text)];
    return msgs.find((m) => m.id === 1)!;
  };

  test("server/discover offers the extension instead of the tasks capability", async () => {
    const caps = ok(await c.request("server/discover", { _meta: meta() })).capabilities;
    assert.deepEqual(caps.extensions, { [EXT]: {} });
    assert.equal(caps.tasks, undefined);
  });

  for (const transport of ["ws", "http"] as const) {
    test(`${transport}: a task asks its questions in inputRequests, takes answers by tasks/update, and ends completed`, async () => {
      const rpc = over(transport);
      const created = ok(await rpc("tools/call", { name: "ask", arguments: {} }));
      assert.equal(created.resultType, "task");
      assert.equal(created.status, "working");
      assert.equal(typeof created.ttlMs, "number");
      assert.equal(typeof created.pollIntervalMs, "number");
      const { taskId } = created;
      const poll = async (until: (task: Record<string, unknown>) => boolean) => {
        for (;;) {
          const task = ok(await rpc("tasks/get", { taskId }));
          assert.equal(task.resultType, "complete");
          if (until(task)) return task;
          await pause();
        }
      };
      const q1 = await poll((x) => x.status === "input_required");
      const [k1] = Object.keys(q1.inputRequests as object);
      const asked =
        (q1.inputRequests as Record<string, { method: string; params: { message: string; mode: string } }>)[k1];
      assert.equal(asked.method, "elicitation/create");
      assert.equal(asked.params.message, "Name?");
      assert.equal(asked.params.mode, "form");
      // An answer to a key never asked is ignored; the real one lets the handler go on.
      assert.deepEqual(
        ok(
          await rpc("tasks/update", {
            taskId,
            inputResponses: { nope: { action: "accept" }, [k1]: { action: "accept", content: { name: "Bo" } } },
          }),
        )
          .resultType,
        "complete",
      );
      const q2 = await poll((x) => x.status === "input_required" && !Object.hasOwn(x.inputRequests as object, k1));
      const [k2] = Object.keys(q2.inputRequests as object);
      assert.notEqual(k2, k1, "keys are never reused within a task");
      ok(await rpc("tasks/update", { taskId, inputResponses: { [k2]: { action: "accept", content: { age: 7 } } } }));
      const done = await poll((x) => x.status === "completed");
      assert.deepEqual((done.result as { content: unknown }).content, [{ type: "text", text: "Bo is 7" }]);
      assert.equal(done.inputRequests, undefined);
    });

    test(`${transport}: tasks/cancel acknowledges and the handler is aborted; a tool error completes the task`, async () => {
      const rpc = over(transport);
      const key = `x-${transport}`;
      const { taskId } = ok(await rpc("tools/call", { name: "gated", arguments: { key } }));
      assert.equal(ok(await rpc("tasks/cancel", { taskId })).resultType, "complete");
      await t.abortOf(key).promise;
      assert.equal(ok(await rpc("tasks/get", { taskId })).status, "cancelled");
      // Cancelling again is acknowledged too: the extension's cancel is cooperative.
      ok(await rpc("tasks/cancel", { taskId }));
      const failed = ok(await rpc("tools/call", { name: "oops", arguments: {} }));
      let task = ok(await rpc("tasks/get", { taskId: failed.taskId }));
      while (task.status === "working") (await pause(), task = ok(await rpc("tasks/get", { taskId: failed.taskId })));
      assert.equal(task.status, "completed", "a tool error is a result, not a failure, in the extension");
      assert.equal(task.result.isError, true);
    });
  }

  test("a UrlElicitationRequiredError inside a task becomes its URL input requests, then the handler runs again", async () => {
    const caps = { elicitation: { url: {} }, extensions: { [EXT]: {} } };
    const rpc = over("ws");
    const { taskId } = ok(await rpc("tools/call", { name: "needs_page", arguments: {}, _meta: meta(caps) }));
    let task = ok(await rpc("tasks/get", { taskId, _meta: meta(caps) }));
    while (task.status === "working") (await pause(), task = ok(await rpc("tasks/get", { taskId, _meta: meta(caps) })));
    assert.equal(task.status, "input_required");
    const [[key, req]] = Object.entries(
      task.inputRequests as Record<string, { method: string; params: { mode: string; url: string } }>,
    );
    assert.equal(req.method, "elicitation/create");
    assert.equal(req.params.mode, "url");
    assert.equal(req.params.url, "https://auth.example.com/connect");
    ok(await rpc("tasks/update", { taskId, inputResponses: { [key]: { action: "accept" } }, _meta: meta(caps) }));
    while (task.status !== "completed") {
      (await pause(), task = ok(await rpc("tasks/get", { taskId, _meta: meta(caps) })));
    }
    assert.deepEqual(task.result.content, [{ type: "text", text: "connected" }]);
  });

  test("without the extension declared: optional tools answer directly, required ones and tasks/* are refused", async () => {
    const plain = meta({ elicitation: { form: {} } });
    t.gate("direct").resolve("answered directly");
    const direct = ok(await c.request("tools/call", { name: "gated", arguments: { key: "direct" }, _meta: plain }));
    assert.equal(direct.resultType, "complete");
    assert.deepEqual(direct.content, [{ type: "text", text: "answered directly" }]);
    const required = await c.request("tools/call", { name: "must", arguments: {}, _meta: plain });
    assert.equal(required.error?.code, ErrorCode.MissingClientCapability);
    assert.deepEqual(required.error?.data, { requiredCapabilities: { extensions: { [EXT]: {} } } });
    for (const method of ["tasks/get", "tasks/update", "tasks/cancel"]) {
      const res = await c.request(method, { taskId: "x", inputResponses: {}, _meta: plain });
      assert.equal(res.error?.code, ErrorCode.MissingClientCapability, method);
    }
    // tasks/result and tasks/list belong to 2025-11-25 only.
    for (const method of ["tasks/result", "tasks/list"]) {
      assert.equal((await c.request(method, { taskId: "x", _meta: meta() })).error?.code, ErrorCode.MethodNotFound);
    }
    assert.equal((await c.request("tasks/get", { taskId: "x", _meta: meta() })).error?.code, ErrorCode.InvalidParams);
  });
});

describe("tasks with the official SDK client (experimental tasks, 2025-11-25)", () => {
  test("over Streamable HTTP: a question inside a task reaches the client through tasks/result", async () => {
    const t = build();
    const h = start(t.server);
    const client = newSdkClient("tasks-http");
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(h.httpUrl)));
      const seen: string[] = [];
      let result: { content?: unknown } | undefined;
      for await (
        const m of client.experimental.tasks.callToolStream({ name: "greet", arguments: {} }, undefined, {
          task: { ttl: 60_000 },
        })
      ) {
        seen.push(m.type === "taskStatus" ? `status:${m.task.status}` : m.type);
        if (m.type === "result") result = m.result;
        if (m.type === "error") throw m.error;
      }
      assert.equal(seen[0], "taskCreated");
      assert.ok(seen.includes("status:input_required"), seen.join(", "));
      // newSdkClient answers every form with { name: "Ada" }.
      assert.deepEqual(result?.content, [{ type: "text", text: "Hello, Ada!" }]);
    } finally {
      await client.close();
      await h.close({ timeout: 100 });
    }
  });

  const drive = async (client: Client) => {
    const seen: string[] = [];
    let result: { content?: unknown } | undefined;
    for await (
      const m of client.experimental.tasks.callToolStream(
        { name: "slow", arguments: { ms: 200, steps: 2 } },
        undefined,
        {
          task: { ttl: 60_000 },
        },
      )
    ) {
      seen.push(m.type);
      if (m.type === "result") result = m.result;
      if (m.type === "error") throw m.error;
    }
    assert.equal(seen[0], "taskCreated");
    assert.deepEqual(result?.content, [{ type: "text", text: "waited 200 ms" }]);
    const tools = await client.listTools();
    assert.deepEqual(tools.tools.find((x: { name: string }) => x.name === "slow")?.execution, {
      taskSupport: "optional",
    });
  };

  test("examples/server.ts: slow runs as a task over WebSocket and Streamable HTTP", async () => {
    const h = start(createServer());
    try {
      for (
        const transport of [
          new WebSocketClientTransport(new URL(h.url)),
          new StreamableHTTPClientTransport(new URL(h.httpUrl)),
        ]
      ) {
        const client = new Client({ name: "sdk-tasks", version: "1.0.0" });
        await client.connect(transport);
        await drive(client);
        await client.close();
      }
    } finally {
      await h.close({ timeout: 100 });
    }
  });

  test("examples/server.ts --stdio: slow runs as a task", async () => {
    const bun = "Bun" in globalThis;
    const client = new Client({ name: "sdk-tasks", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: `${ROOT}tools/node_modules/.bin/${bun ? "bun" : "deno"}`,
        args: bun ? ["run", "examples/server.ts", "--stdio"] : ["run", "examples/server.ts", "--stdio"],
        cwd: ROOT,
        stderr: "inherit",
      }),
    );
    try {
      await drive(client);
    } finally {
      await client.close();
    }
  });
});

describe("tasks across instances (BroadcastChannel, one shared store)", () => {
  const name = `tasks-${crypto.randomUUID()}`;
  const store = memoryTaskStore();
  let a: ReturnType<typeof build>;
  let b: ReturnType<typeof build>;
  let ha: ServeHandle;
  let hb: ServeHandle;
  before(async () => {
    a = build({ store }, { cluster: broadcastCluster({ name, heartbeat: 50 }) });
    b = build({ store }, { cluster: broadcastCluster({ name, heartbeat: 50 }) });
    ha = start(a.server);
    hb = start(b.server);
    const na = coreOf(a.server).cluster!;
    const nb = coreOf(b.server).cluster!;
    const deadline = Date.now() + 5000;
    while (!(na.alive(nb.id) && nb.alive(na.id))) {
      assert.ok(Date.now() < deadline, "the instances hear each other");
      await pause();
    }
  });
  after(async () => {
    await ha.close({ timeout: 100 });
    await hb.close({ timeout: 100 });
  });

  test("cancelled through another instance: the runner aborts the handler and the task stays cancelled", async () => {
    const ca = await RawClient.ready(ha.url);
    const cb = await RawClient.ready(hb.url);
    try {
      const { taskId } = ok(await ca.request("tools/call", { name: "gated", arguments: { key: "k" }, task: {} })).task;
      assert.ok(taskId.startsWith(`${coreOf(a.server).cluster!.id}.`));
      assert.equal(ok(await cb.request("tasks/get", { taskId })).status, "working");
      assert.equal(ok(await cb.request("tasks/cancel", { taskId })).status, "cancelled");
      await a.abortOf("k").promise; // the handler on A was aborted
      a.gate("k").resolve("finished anyway");
      assert.equal(ok(await ca.request("tasks/get", { taskId })).status, "cancelled");
      assert.equal(ok(await cb.request("tasks/get", { taskId })).status, "cancelled");
    } finally {
      await ca.close();
      await cb.close();
    }
  });

  test("a question from a task whose client waits on another instance fails with a clear error, not a hang", async () => {
    const ca = await RawClient.ready(ha.url, { elicitation: { form: {} } });
    const { taskId } = ok(await ca.request("tools/call", { name: "greet", arguments: {}, task: {} })).task;
    await ca.close();
    const cb = await RawClient.ready(hb.url, { elicitation: { form: {} } });
    try {
      const res = ok(await cb.request("tasks/result", { taskId }));
      assert.equal(res.isError, true);
      assert.match(res.content[0].text, /another instance/);
      assert.equal(ok(await cb.request("tasks/get", { taskId })).status, "failed");
    } finally {
      await cb.close();
    }
  });
});
