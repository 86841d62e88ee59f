// The BroadcastChannel cluster transport (issue 13): instances in one process, and examples/workers.ts
// (workers of one process on one port). Also the forwarding edge cases, which do not depend on the bus.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { broadcastCluster, type ClusterTransport, McpServer, type ServeHandle } from "../mod.ts";
import { connect, type McpClient } from "../client.ts";
import {
  closedPort,
  launch,
  listening,
  openHttpSession,
  runtimeName,
  sseMessages,
  start,
  waitFor,
  within,
} from "./testdata/helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const APP = "https://app.example.com";

function instance(name: string, cluster: ClusterTransport): McpServer {
  const server = new McpServer({ name: "bc", version: "1.0.0", cluster });
  server.tool("whoami", {}, () => name);
  server.tool("touch", {}, () => (server.resourceUpdated("memo://x"), "touched"));
  server.tool("block", { description: "Holds the event loop (of the whole process) for ms" }, (args) => {
    const until = Date.now() + Number((args as { ms?: number }).ms ?? 0);
    while (Date.now() < until) { /* busy */ }
    return `${name} blocked`;
  });
  return server;
}

async function post(url: URL, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", ...body }),
  });
}

async function result(res: Response) {
  const body = await res.text();
  const msgs = res.headers.get("content-type")?.startsWith("text/event-stream")
    ? sseMessages(body)
    : [JSON.parse(body)];
  return msgs.find((m) => m.id !== undefined && m.method === undefined)!;
}

describe("broadcastCluster: two instances in one process", () => {
  const name = `bc-test-${crypto.randomUUID()}`;
  let a: ServeHandle;
  let b: ServeHandle;
  let sid: string;
  const hdr = () => ({ "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" });
  before(async () => {
    const options = { maxMessageBytes: 10_000, allowedOrigins: [APP] };
    a = start(instance("A", broadcastCluster({ name, heartbeat: 50 })), options);
    b = start(instance("B", broadcastCluster({ name, heartbeat: 50 })), options);
    sid = (await openHttpSession(a.httpUrl))["mcp-session-id"];
  });
  after(async () => {
    await a.close({ timeout: 100 });
    await b.close({ timeout: 100 });
  });

  test("a session id names its instance; requests through the other are answered by it", async () => {
    assert.match(sid, /^[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{32}$/);
    const res = await post(
      b.httpUrl,
      { id: 2, method: "tools/call", params: { name: "whoami", arguments: {} } },
      hdr(),
    );
    assert.equal(res.status, 200);
    assert.deepEqual((await result(res)).result.content, [{ type: "text", text: "A" }]);
    assert.equal(b.sessions, 0, "B holds no session");
    assert.equal(a.sessions, 1);
  });

  test("an update raised on one instance reaches WebSocket subscribers of the other", async () => {
    const client: McpClient = await connect(b.url);
    try {
      let heard!: () => void;
      const got = new Promise<void>((r) => (heard = r));
      await client.subscribe("memo://x", () => heard());
      const other = await connect(a.url);
      await other.callTool("touch", {});
      await other.close();
      await within(got, 5000, "the update from A");
    } finally {
      await client.close();
    }
  });

  test("a body over the limit is refused by the instance it reaches, before it crosses the bus", async () => {
    const res = await post(b.httpUrl, { id: 3, method: "ping", params: { pad: "x".repeat(20_000) } }, hdr());
    assert.equal(res.status, 413);
    await res.text();
  });

  test("a session id naming no live instance gets 404; a malformed one is looked up locally", async () => {
    const gone = await post(b.httpUrl, { id: 4, method: "ping" }, { ...hdr(), "mcp-session-id": "AAAAAAAAAAAA.x" });
    assert.equal(gone.status, 404);
    assert.match((await gone.json()).error.message, /Session not found/);
    const odd = await post(b.httpUrl, { id: 5, method: "ping" }, { ...hdr(), "mcp-session-id": "not-a.cluster:id" });
    assert.equal(odd.status, 404);
    await odd.text();
  });

  test("a stall of the whole process (both instances) longer than three heartbeats fails nothing", async () => {
    const res = await post(b.httpUrl, {
      id: 7,
      method: "tools/call",
      params: { name: "block", arguments: { ms: 400 } },
    }, {
      ...hdr(),
      accept: "application/json",
    });
    assert.equal(res.status, 200);
    assert.deepEqual((await result(res)).result.content, [{ type: "text", text: "A blocked" }]);
    const after = await post(b.httpUrl, { id: 8, method: "ping" }, hdr());
    assert.equal(after.status, 200, "the session lives on");
    await after.text();
  });

  test("a browser's request through the other instance gets CORS headers, once, whoever answered it", async () => {
    const cors = (res: Response, what: string) => {
      assert.equal(res.headers.get("access-control-allow-origin"), APP, what);
      assert.equal(res.headers.get("vary"), "Origin", what);
      assert.equal(
        res.headers.get("access-control-expose-headers"),
        "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After",
        what,
      );
    };
    const o = { ...hdr(), origin: APP };
    const json = await post(b.httpUrl, { id: 9, method: "tools/call", params: { name: "whoami", arguments: {} } }, {
      ...o,
      accept: "application/json",
    });
    assert.equal(json.status, 200);
    cors(json, "a JSON answer from A");
    assert.deepEqual((await result(json)).result.content, [{ type: "text", text: "A" }]);
    const stream = await fetch(b.httpUrl, { headers: { ...o, accept: "text/event-stream" } });
    assert.equal(stream.status, 200);
    cors(stream, "A's stream through B");
    await stream.body?.cancel();
    // Made by B's forwarder: no live instance has this id.
    const gone = await post(b.httpUrl, { id: 10, method: "ping" }, { ...o, "mcp-session-id": "AAAAAAAAAAAA.x" });
    assert.equal(gone.status, 404);
    cors(gone, "B's 404");
    await gone.text();
    // A refused origin is refused where it arrives, before anything crosses the bus.
    const refused = await post(b.httpUrl, { id: 11, method: "ping" }, { ...o, origin: "https://evil.example" });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get("access-control-allow-origin"), null);
    await refused.text();
  });

  test("DELETE through the other instance ends the session everywhere", async () => {
    const del = await fetch(b.httpUrl, { method: "DELETE", headers: hdr() });
    assert.equal(del.status, 200);
    await del.text();
    await waitFor(() => a.sessions === 0, "the session to end on A");
    for (const url of [a.httpUrl, b.httpUrl]) {
      const res = await post(url, { id: 6, method: "ping" }, hdr());
      assert.equal(res.status, 404);
      await res.text();
    }
  });
});

/** `inner`, losing the messages `drop` picks; `mute()` makes it deaf and dumb, as a crashed instance is. */
function lossy(
  inner: ClusterTransport,
  drop: (msg: Record<string, unknown>) => boolean,
): ClusterTransport & { mute(): void } {
  let muted = false;
  return {
    heartbeat: inner.heartbeat,
    publish: (topic, message) => muted || drop(JSON.parse(message)) ? undefined : inner.publish(topic, message),
    subscribe: (topic, listener) => inner.subscribe(topic, (m) => muted || listener(m)),
    close: () => inner.close?.(),
    mute: () => void (muted = true),
  };
}

describe("broadcastCluster: a bus that loses messages", () => {
  const name = `bc-lossy-${crypto.randomUUID()}`;
  let lostHead = false;
  let lostCancel = false;
  let a: ServeHandle;
  let b: ServeHandle;
  let tb: ReturnType<typeof lossy>;
  let sid: string;
  before(async () => {
    // A loses its first answer to a forwarded request; B loses its first cancel.
    const ta = lossy(
      broadcastCluster({ name, heartbeat: 50 }),
      (m) => m.t === "head" && !lostHead && (lostHead = true),
    );
    tb = lossy(
      broadcastCluster({ name, heartbeat: 50 }),
      (m) => m.t === "cancel" && !lostCancel && (lostCancel = true),
    );
    a = start(instance("A", ta), { sessionIdleTimeout: 300 });
    b = start(instance("B", tb));
    sid = (await openHttpSession(a.httpUrl))["mcp-session-id"];
  });
  after(async () => {
    await a.close({ timeout: 100 });
    await b.close({ timeout: 100 });
  });

  test("a lost answer ends the forwarded request with 503 (retry), not a hang", async () => {
    const hdr = { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
    const res = await within(post(b.httpUrl, { id: 2, method: "ping" }, hdr), 5000, "the answer to a lost head");
    assert.ok(lostHead, "the head was lost");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "2");
    await res.text();
    const retry = await post(b.httpUrl, { id: 3, method: "ping" }, hdr);
    assert.equal(retry.status, 200);
    await retry.text();
  });

  test("a forwarded stream whose client left, its cancel lost, still frees the owner's session to expire", async () => {
    const hdr = { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25", accept: "text/event-stream" };
    const res = await fetch(b.httpUrl, { headers: hdr });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read(); // the priming event: the stream is open on A
    await reader.cancel();
    await waitFor(() => lostCancel, "B to send (and lose) its cancel", 5000);
    // A's pulse names the stream, B answers that nobody waits for it, A lets go: the idle session then expires.
    await waitFor(() => a.sessions === 0, "the session to expire on A", 10_000);
  });

  test("a requester that dies with a forwarded stream open does not keep the owner's session alive", async () => {
    sid = (await openHttpSession(a.httpUrl))["mcp-session-id"];
    const hdr = { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25", accept: "text/event-stream" };
    const res = await fetch(b.httpUrl, { headers: hdr });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read(); // the stream is open on A, read through B
    tb.mute(); // B crashes: it says nothing more, not even a cancel
    await waitFor(() => a.sessions === 0, "the session to expire on A", 10_000);
    reader.cancel().catch(() => {});
  });
});

describe("broadcastCluster: one server on two ports, the same path", () => {
  const name = `bc-twice-${crypto.randomUUID()}`;
  test("a session of either endpoint is served through another instance", async () => {
    const server = instance("A", broadcastCluster({ name, heartbeat: 50 }));
    const a1 = start(server);
    const a2 = start(server);
    const b = start(instance("B", broadcastCluster({ name, heartbeat: 50 })));
    try {
      for (const a of [a1, a2]) {
        const hdr = await openHttpSession(a.httpUrl);
        const res = await post(
          b.httpUrl,
          { id: 2, method: "tools/call", params: { name: "whoami", arguments: {} } },
          hdr,
        );
        assert.equal(res.status, 200, `a session of port ${a.port}`);
        assert.deepEqual((await result(res)).result.content, [{ type: "text", text: "A" }]);
      }
    } finally {
      for (const h of [a1, a2, b]) await h.close({ timeout: 100 });
    }
  });
});

describe(`examples/workers.ts on ${runtimeName}: workers of one process on one port`, () => {
  test("clients land on different workers, and a log raised on one reaches the other's clients", async () => {
    const port = await closedPort();
    const args = runtimeName === "deno"
      ? ["run", "--allow-net=127.0.0.1", "--allow-env", "--allow-read", "examples/workers.ts"]
      : ["run", "examples/workers.ts"];
    const child = await launch(process.execPath, args, {
      cwd: ROOT,
      env: { PORT: String(port), WORKERS: "2" },
      timeout: 120_000,
    });
    const clients = new Map<string, McpClient>();
    try {
      await listening(port, child);
      await waitFor(() => /2 workers serving MCP/.test(child.stdout), "both workers listening", 20_000);
      // The kernel spreads connections over the workers by their source port: a few tries find both.
      for (let i = 0; i < 50 && clients.size < 2; i++) {
        const c = await connect(`ws://127.0.0.1:${port}/mcp`);
        const who = (await c.callTool("worker", {})).content[0] as { text: string };
        if (clients.has(who.text)) await c.close();
        else clients.set(who.text, c);
      }
      assert.deepEqual([...clients.keys()].sort(), ["worker 1", "worker 2"]);
      const one = clients.get("worker 1")!;
      const two = clients.get("worker 2")!;
      await two.setLogLevel("info");
      const heard = new Promise<Record<string, unknown>>((r) => two.on("notifications/message", (p) => r(p)));
      await one.callTool("shout", { text: "hello, workers" });
      assert.deepEqual(await within(heard, 5000, "the log from worker 1"), {
        level: "notice",
        logger: "worker 1",
        data: "hello, workers",
      });
    } finally {
      for (const c of clients.values()) await c.close();
      await child.kill();
    }
  });
});
