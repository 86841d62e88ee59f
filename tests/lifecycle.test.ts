// However a server is mounted (serve, mcpHandler, websocketHandler or httpHandler alone, stdio), it
// behaves the same: every transport holds the server's tasks up while it serves, and joins its cluster.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import {
  broadcastCluster,
  httpHandler,
  McpServer,
  memoryTaskStore,
  serve,
  serveStdio,
  type TaskRecord,
  type TaskStore,
  websocketHandler,
} from "../mod.ts";
import { coreOf } from "../server.ts";
import { deferred, RawClient, sseMessages, waitFor, within } from "./testdata/helpers.ts";

// deno-lint-ignore no-explicit-any
const rt = globalThis as any;

/** Serves a fetch handler (and Bun's websocket handlers) on a free loopback port, as a user mounts one. */
function listen(
  // deno-lint-ignore no-explicit-any
  fetch: (req: Request, server?: any) => Response | undefined | Promise<Response | undefined>,
  // deno-lint-ignore no-explicit-any
  websocket?: any,
): { http: URL; ws: URL; close(): Promise<void> } {
  if (rt.Bun) {
    const s = rt.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch, websocket });
    const base = `127.0.0.1:${s.port}/mcp`;
    return {
      http: new URL(`http://${base}`),
      ws: new URL(`ws://${base}`),
      close: async () => void (await s.stop(true)),
    };
  }
  const s = rt.Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, fetch);
  const base = `127.0.0.1:${s.addr.port}/mcp`;
  return { http: new URL(`http://${base}`), ws: new URL(`ws://${base}`), close: () => s.shutdown() };
}

/** A server whose one tool runs as a task until its signal aborts; the store is kept for the test to read. */
function taskServer(name = "lifecycle") {
  const store: TaskStore = memoryTaskStore();
  const server = new McpServer({ name, version: "1.0.0", tasks: { store } });
  const aborted = deferred<unknown>();
  server.tool("wait", { task: "optional", input: z.object({}) }, (_args, ctx) =>
    new Promise<string>((resolve) => {
      ctx.signal.addEventListener("abort", () => (aborted.resolve(ctx.signal.reason), resolve("aborted")), {
        once: true,
      });
    }));
  return { server, store, aborted: aborted.promise };
}

const INIT = { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } };

/** Starts the `wait` tool as a 2025-11-25 task over a WebSocket; resolves with its id. */
async function taskOverWebSocket(url: URL): Promise<{ client: RawClient; taskId: string }> {
  const client = new RawClient(url);
  await client.opened;
  await client.request("initialize", INIT);
  client.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  const r = await client.request("tools/call", { name: "wait", arguments: {}, task: { ttl: 60_000 } });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  return { client, taskId: r.result.task.taskId };
}

/** Starts the `wait` tool as a 2025-11-25 task over Streamable HTTP; resolves with its id. */
async function taskOverHttp(url: URL): Promise<string> {
  const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      body: JSON.stringify({ jsonrpc: "2.0", ...body }),
    });
  const init = await post({ id: 1, method: "initialize", params: INIT });
  const sid = init.headers.get("mcp-session-id")!;
  await init.text();
  const hdr = { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
  await (await post({ method: "notifications/initialized" }, hdr)).text();
  const res = await post({ id: 2, method: "tools/call", params: { name: "wait", arguments: {}, task: {} } }, hdr);
  const body = await res.text();
  const msgs = res.headers.get("content-type")?.startsWith("text/event-stream")
    ? sseMessages(body)
    : [JSON.parse(body)];
  const answer = msgs.find((m) => m.id === 2)!;
  assert.equal(answer.error, undefined, JSON.stringify(answer.error));
  return answer.result.task.taskId;
}

async function statusOf(store: TaskStore, taskId: string): Promise<TaskRecord> {
  const record = await store.get(taskId);
  assert.ok(record, `task ${taskId} is in the store`);
  return record;
}

describe("every way of mounting a server holds its tasks", () => {
  test("websocketHandler alone: closing it ends the tasks still running, as serve() does", async () => {
    const { server, store, aborted } = taskServer();
    const handler = websocketHandler(server);
    const listening = listen(handler.fetch, handler.websocket);
    try {
      const { client, taskId } = await taskOverWebSocket(listening.ws);
      assert.equal((await statusOf(store, taskId)).status, "working");
      await handler.close({ timeout: 200 });
      const reason = await within(aborted, 2000, "the task's handler is aborted when its last transport closes");
      assert.match(String((reason as Error)?.message ?? reason), /shut down before the task ended/);
      const record = await statusOf(store, taskId);
      assert.equal(record.status, "failed");
      assert.equal(record.statusMessage, "The server shut down before the task ended");
      await client.close();
    } finally {
      await listening.close();
    }
  });

  test("httpHandler alone: closing it ends the tasks still running", async () => {
    const { server, store, aborted } = taskServer();
    const handler = httpHandler(server);
    const listening = listen(handler.fetch);
    try {
      const taskId = await taskOverHttp(listening.http);
      assert.equal((await statusOf(store, taskId)).status, "working");
      await handler.close({ timeout: 200 });
      await within(aborted, 2000, "the task's handler is aborted when its last transport closes");
      assert.equal((await statusOf(store, taskId)).status, "failed");
    } finally {
      await listening.close();
    }
  });

  test("two handlers of one server: the tasks run until the last of them closes", async () => {
    const { server, store, aborted } = taskServer();
    const ws = websocketHandler(server);
    const http = httpHandler(server);
    const wsListening = listen(ws.fetch, ws.websocket);
    const httpListening = listen(http.fetch);
    let settled = false;
    aborted.then(() => (settled = true));
    try {
      const { client, taskId } = await taskOverWebSocket(wsListening.ws);
      await http.close({ timeout: 200 });
      // What closing the other transport would have ended has had its turn to run.
      await new Promise((r) => setTimeout(r, 0));
      assert.equal(settled, false, "the task survives while a transport still serves the server");
      assert.equal((await statusOf(store, taskId)).status, "working");
      await ws.close({ timeout: 200 });
      await within(aborted, 2000, "the task ends with the last transport");
      assert.equal((await statusOf(store, taskId)).status, "failed");
      await client.close();
    } finally {
      await wsListening.close();
      await httpListening.close();
    }
  });
});

describe("a serve() that cannot listen lets go of the server", () => {
  test("the port is taken: serve() throws, and a later serve() of the same server still ends the tasks on close", async () => {
    const other = serve(new McpServer({ name: "holder", version: "1" }), { port: 0 });
    const { server, store, aborted } = taskServer();
    try {
      assert.throws(() => serve(server, { port: other.port }));
      const handle = serve(server, { port: 0 });
      const { client, taskId } = await taskOverWebSocket(handle.url);
      await handle.close({ timeout: 200 });
      await within(aborted, 2000, "the failed serve() held nothing: closing the one that listens ends the tasks");
      assert.equal((await statusOf(store, taskId)).status, "failed");
      await client.close();
    } finally {
      await other.close();
    }
  });
});

describe("every way of mounting a server joins its cluster", () => {
  test("serveStdio: a notification raised on another instance reaches the stdio client; the end leaves the bus", async () => {
    const name = `lifecycle-stdio-${crypto.randomUUID()}`;
    const a = new McpServer({ name: "lc", version: "1.0.0", cluster: broadcastCluster({ name, heartbeat: 50 }) });
    const b = new McpServer({ name: "lc", version: "1.0.0", cluster: broadcastCluster({ name, heartbeat: 50 }) });
    a.resource("memo://x", {}, () => "x");
    const toServer = new TransformStream<Uint8Array, Uint8Array>();
    const fromServer = new TransformStream<Uint8Array, Uint8Array>();
    const stdio = serveStdio(a, { input: toServer.readable, output: fromServer.writable, redirectConsole: false });
    const httpB = httpHandler(b);
    const writer = toServer.writable.getWriter();
    const reader = fromServer.readable.pipeThrough(new TextDecoderStream()).getReader();
    const lines: string[] = [];
    let buf = "";
    const nextLine = async (match: (m: Record<string, unknown>) => boolean) => {
      for (;;) {
        const i = lines.findIndex((l) => match(JSON.parse(l)));
        if (i >= 0) return JSON.parse(lines.splice(i, 1)[0]);
        const { value, done } = await reader.read();
        if (done) throw new Error("stdout ended");
        buf += value;
        const parts = buf.split("\n");
        buf = parts.pop()!;
        lines.push(...parts.filter((l) => l.trim()));
      }
    };
    const send = (msg: Record<string, unknown>) =>
      writer.write(new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", ...msg }) + "\n"));
    const nodeA = coreOf(a).cluster!;
    const nodeB = coreOf(b).cluster!;
    try {
      await waitFor(() => nodeA.up && nodeB.up && nodeA.alive(nodeB.id), "both instances on the bus");
      await send({ id: 1, method: "initialize", params: INIT });
      await within(nextLine((m) => m.id === 1), 5000, "initialize answered");
      await send({ id: 2, method: "resources/subscribe", params: { uri: "memo://x" } });
      await within(nextLine((m) => m.id === 2), 5000, "subscribed");
      b.resourceUpdated("memo://x");
      const n = await within(nextLine((m) => m.method === "notifications/resources/updated"), 5000, "the update");
      assert.equal(n.params.uri, "memo://x");
      await stdio.close({ timeout: 100 });
      assert.equal(nodeA.up, false, "stdio ended: the instance left the bus");
    } finally {
      await writer.close().catch(() => {});
      await httpB.close({ timeout: 100 });
    }
  });

  test("websocketHandler alone and httpHandler alone: a notification raised on one instance reaches the other's client; closing leaves the bus", async () => {
    const name = `lifecycle-${crypto.randomUUID()}`;
    const a = new McpServer({ name: "lc", version: "1.0.0", cluster: broadcastCluster({ name, heartbeat: 50 }) });
    const b = new McpServer({ name: "lc", version: "1.0.0", cluster: broadcastCluster({ name, heartbeat: 50 }) });
    a.resource("memo://x", {}, () => "x");
    const nodeA = coreOf(a).cluster!;
    const nodeB = coreOf(b).cluster!;
    assert.equal(nodeA.up, false, "no transport yet: the instance is not on the bus");
    const wsA = websocketHandler(a);
    const httpB = httpHandler(b);
    const listening = listen(wsA.fetch, wsA.websocket);
    const client = new RawClient(listening.ws);
    try {
      await waitFor(() => nodeA.up && nodeB.up && nodeA.alive(nodeB.id), "both instances on the bus");
      await client.opened;
      await client.request("initialize", INIT);
      await client.request("resources/subscribe", { uri: "memo://x" });
      b.resourceUpdated("memo://x");
      const n = await client.notification("notifications/resources/updated", 5000);
      assert.equal(n.params?.uri, "memo://x");
      await client.close();
      await wsA.close({ timeout: 100 });
      await httpB.close({ timeout: 100 });
      assert.equal(nodeA.up, false, "the last transport closed: the instance left the bus");
      assert.equal(nodeB.up, false);
    } finally {
      await listening.close();
    }
  });
});
