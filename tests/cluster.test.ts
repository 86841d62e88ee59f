// Several instances as one server over a real redis-server (issue 13): fan-out across Deno and Bun
// processes, an HTTP session whose every request lands on another instance, a 2026-07-28 listen, an
// instance killed mid-session, Redis restarted mid-run. Each run starts its own redis-server on a free
// port; in CI (CI=true) a missing redis-server fails the tests instead of skipping them.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { connect, type McpClient } from "../client.ts";
import {
  closedPort,
  type Frame,
  launch,
  type Launched,
  listening,
  openHttpSession,
  RedisServer as Redis,
  redisSkip,
  sseMessages,
  waitFor,
  within,
} from "./testdata/helpers.ts";
import { newSdkClient } from "./testdata/sdk_client.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = `${ROOT}tools/node_modules/.bin/deno`;
const BUN = `${ROOT}tools/node_modules/.bin/bun`;
const skip = redisSkip;
const V = "2026-07-28";

// Every instance started, so that none outlives the tests, even when starting a group of them failed halfway.
const children = new Set<Launched>();
after(async () => {
  await Promise.all([...children].map((c) => c.kill()));
});

/** One cluster instance (tests/testdata/cluster_instance.ts or examples/cluster.ts) in its own process. */
interface Instance {
  name: string;
  port: number;
  child: Launched;
  ws: URL;
  http: URL;
}

async function startInstance(
  runtime: "deno" | "bun",
  name: string,
  redis: Redis,
  opts: { port?: number; script?: string } = {},
): Promise<Instance> {
  const port = opts.port ?? await closedPort();
  const script = opts.script ?? "tests/testdata/cluster_instance.ts";
  // examples/cluster.ts runs as README's "Running several instances" shows it.
  const flags = script.startsWith("examples/") ? ["--allow-net", "--allow-env"] : ["-A"];
  const args = runtime === "deno" ? ["run", ...flags, script] : ["run", script];
  const child = await launch(runtime === "deno" ? DENO : BUN, args, {
    cwd: ROOT,
    env: { REDIS_URL: redis.url, PORT: String(port), NAME: name, HEARTBEAT: "500" },
    timeout: 600_000,
  });
  children.add(child);
  await listening(port, child);
  // Another instance may hold the port already: wait for this one's own word (the fixture says it once it hears
  // the bus; examples/cluster.ts once it listens).
  const word = script === "tests/testdata/cluster_instance.ts" ? `listening ${port}` : `:${port}/mcp`;
  await waitFor(() => child.stdout.includes(word), `${name} ready`, 30_000);
  return {
    name,
    port,
    child,
    ws: new URL(`ws://127.0.0.1:${port}/mcp`),
    http: new URL(`http://127.0.0.1:${port}/mcp`),
  };
}

/** A short wait between two polls of a task's status. */
const pause = () => new Promise((r) => setTimeout(r, 20));

const text = (r: { content?: { type: string; text?: string }[] }) => r.content?.[0]?.text;

/** Waits for the next notification `method` on `client`, `what` naming it in a failure. */
function next(client: McpClient, method: string, what: string, ms = 10_000): Promise<Record<string, unknown>> {
  return within(
    new Promise((resolve) => {
      const off = client.on(method, (params) => (off(), resolve(params)));
    }),
    ms,
    what,
  );
}

/** A fetch that sends every request to the next of `urls` in turn, whatever URL it was given. */
function rotating(urls: URL[], log: string[] = []): typeof fetch {
  let i = 0;
  return ((input: string | URL | Request, init?: RequestInit) => {
    const target = urls[i++ % urls.length];
    log.push(target.port);
    if (input instanceof Request) return fetch(new Request(target, input), init);
    return fetch(target, init);
  }) as typeof fetch;
}

async function postJson(url: URL, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", ...body }),
  });
}

/** Reads SSE messages off a response body one at a time. */
function sseReader(res: Response): { next(what: string): Promise<Frame & { eventId?: string }>; cancel(): void } {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  return {
    async next(what) {
      return await within(
        (async () => {
          for (;;) {
            const i = buf.indexOf("\n\n");
            if (i >= 0) {
              const ev = buf.slice(0, i);
              buf = buf.slice(i + 2);
              const id = /^id: (.*)$/m.exec(ev)?.[1];
              const msgs = sseMessages(ev + "\n\n");
              if (msgs.length) return { ...msgs[0], eventId: id };
              if (id !== undefined) return { eventId: id } as Frame & { eventId?: string };
              continue;
            }
            const { value, done } = await reader.read();
            if (done) throw new Error("the stream ended");
            buf += value;
          }
        })(),
        10_000,
        what,
      );
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
}

describe("cluster over Redis", { skip }, () => {
  let redis: Redis;
  let a: Instance; // Deno
  let b: Instance; // Bun
  let c: Instance; // Deno
  const clients: McpClient[] = [];

  before(async () => {
    redis = new Redis(await closedPort());
    await redis.start();
    [a, b, c] = await Promise.all([
      startInstance("deno", "A", redis),
      startInstance("bun", "B", redis),
      startInstance("deno", "C", redis),
    ]);
  });
  after(async () => {
    await Promise.all(clients.map((cl) => cl.close().catch(() => {})));
    await Promise.all([a, b, c].map((i) => i?.child.kill()));
    await redis?.stop();
  });

  const open = async (i: Instance) => {
    const cl = await connect(i.ws, { timeout: 10_000 });
    clients.push(cl);
    return cl;
  };

  test("the instances are two Deno processes and one Bun process", async () => {
    const kinds = await Promise.all([a, b, c].map(async (i) => text(await (await open(i)).callTool("whoami", {}))));
    assert.match(kinds[0]!, /^A deno \d+$/);
    assert.match(kinds[1]!, /^B bun \d+$/);
    assert.match(kinds[2]!, /^C deno \d+$/);
  });

  test("resourceUpdated, log and list changes reach WebSocket and HTTP sessions of every instance", async () => {
    const ws = await Promise.all([a, b, c].map(open));
    for (const cl of ws) {
      await cl.subscribe("board://x", () => {});
      await cl.setLogLevel("info");
    }
    // An HTTP session on B, with its GET stream open and subscribed.
    const hdr = await openHttpSession(b.http, "h");
    await (await postJson(b.http, { method: "notifications/initialized" }, hdr)).text();
    const sub = await postJson(b.http, { id: 2, method: "resources/subscribe", params: { uri: "board://x" } }, hdr);
    assert.equal(sub.status, 200, await sub.clone().text());
    await sub.text();
    const get = await fetch(b.http, { headers: { ...hdr, accept: "text/event-stream" } });
    assert.equal(get.status, 200);
    const stream = sseReader(get);
    await stream.next("the GET stream's priming event");

    const updated = ws.map((cl, i) => next(cl, "notifications/resources/updated", `update at WebSocket client ${i}`));
    assert.equal(text(await ws[0].callTool("touch", { uri: "board://x" })), "touched");
    for (const p of updated) assert.deepEqual(await p, { uri: "board://x" });
    const overHttp = await stream.next("the update on the HTTP GET stream");
    assert.equal(overHttp.method, "notifications/resources/updated");
    assert.deepEqual(overHttp.params, { uri: "board://x" });

    const logged = ws.map((cl, i) => next(cl, "notifications/message", `log at WebSocket client ${i}`));
    await ws[2].callTool("announce", { text: "from C" });
    for (const p of logged) assert.deepEqual(await p, { level: "warning", logger: "C", data: "from C" });
    assert.deepEqual((await stream.next("the log on the HTTP GET stream")).params, {
      level: "warning",
      logger: "C",
      data: "from C",
    });

    const changed = ws.map((cl, i) => next(cl, "notifications/tools/list_changed", `list change at client ${i}`));
    await ws[1].callTool("add_tool", { tool: "added_on_b" });
    for (const p of changed) await p;
    assert.equal(
      (await stream.next("the list change on the HTTP GET stream")).method,
      "notifications/tools/list_changed",
    );
    stream.cancel();
  });

  test("a 2026-07-28 listen on one instance hears an update raised on another", async () => {
    const controller = new AbortController();
    const res = await fetch(c.http, {
      method: "POST",
      signal: controller.signal,
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": V,
        "mcp-method": "subscriptions/listen",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: "L1",
        method: "subscriptions/listen",
        params: {
          notifications: { resourceSubscriptions: ["board://y"], toolsListChanged: true },
          _meta: {
            "io.modelcontextprotocol/protocolVersion": V,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": { name: "modern", version: "1" },
          },
        },
      }),
    });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const stream = sseReader(res);
    assert.equal((await stream.next("the acknowledgement")).method, "notifications/subscriptions/acknowledged");
    const other = await open(a);
    await other.callTool("touch", { uri: "board://y" });
    const got = await stream.next("the update raised on A");
    assert.equal(got.method, "notifications/resources/updated");
    assert.equal(got.params!.uri, "board://y");
    assert.equal((got.params!._meta as Record<string, unknown>)["io.modelcontextprotocol/subscriptionId"], "L1");
    controller.abort();
  });

  test("a 2026-07-28 requestState sealed by one instance opens on another", async () => {
    const meta = {
      "io.modelcontextprotocol/protocolVersion": V,
      "io.modelcontextprotocol/clientCapabilities": { elicitation: { form: {} } },
      "io.modelcontextprotocol/clientInfo": { name: "modern", version: "1" },
    };
    const headers = { "mcp-protocol-version": V, "mcp-method": "tools/call" };
    const answer = async (res: Response) => {
      const body = await res.text();
      const msgs = res.headers.get("content-type")?.startsWith("text/event-stream")
        ? sseMessages(body)
        : [JSON.parse(body)];
      return msgs.find((m) => m.id !== undefined && m.method === undefined)!;
    };
    const first = await answer(
      await postJson(
        a.http,
        { id: 1, method: "tools/call", params: { name: "greet", arguments: {}, _meta: meta } },
        headers,
      ),
    );
    assert.equal(first.result.resultType, "input_required");
    const key = Object.keys(first.result.inputRequests)[0];
    const second = await answer(
      await postJson(b.http, {
        id: 2,
        method: "tools/call",
        params: {
          name: "greet",
          arguments: {},
          inputResponses: { [key]: { action: "accept", content: { name: "Ada" } } },
          requestState: first.result.requestState,
          _meta: meta,
        },
      }, headers),
    );
    assert.deepEqual(second.result.content, [{ type: "text", text: "Hello, Ada, from B" }]);
  });

  test("a 2026-07-28 task run by a Deno instance is polled, answered and cancelled through a Bun instance", async () => {
    const meta = {
      "io.modelcontextprotocol/protocolVersion": V,
      "io.modelcontextprotocol/clientCapabilities": {
        elicitation: { form: {} },
        extensions: { "io.modelcontextprotocol/tasks": {} },
      },
    };
    let id = 0;
    const rpc = async (i: Instance, method: string, params: Record<string, unknown>) => {
      const res = await postJson(i.http, { id: ++id, method, params: { ...params, _meta: meta } }, {
        "mcp-protocol-version": V,
        "mcp-method": method,
      });
      const body = await res.text();
      const msgs = res.headers.get("content-type")?.startsWith("text/event-stream")
        ? sseMessages(body)
        : [JSON.parse(body)];
      const answer = msgs.find((m) => m.id === id)!;
      assert.equal(answer.error, undefined, `${method} on ${i.name}: ${JSON.stringify(answer.error)}`);
      return answer.result;
    };
    // The task runs on A, its record is in Redis, and B answers for it.
    const created = await rpc(a, "tools/call", { name: "greet_task", arguments: {} });
    assert.equal(created.resultType, "task");
    assert.ok(created.taskId.startsWith(`${created.taskId.slice(0, 12)}.`), "the id names the instance that runs it");
    let task = await rpc(b, "tasks/get", { taskId: created.taskId });
    while (task.status === "working") {
      await pause();
      task = await rpc(b, "tasks/get", { taskId: created.taskId });
    }
    assert.equal(task.status, "input_required");
    const [key] = Object.keys(task.inputRequests);
    assert.equal(task.inputRequests[key].method, "elicitation/create");
    await rpc(b, "tasks/update", {
      taskId: created.taskId,
      inputResponses: { [key]: { action: "accept", content: { name: "Ada" } } },
    });
    while (task.status !== "completed") {
      await pause();
      task = await rpc(c, "tasks/get", { taskId: created.taskId });
      assert.ok(task.status === "input_required" || task.status === "completed", JSON.stringify(task));
    }
    assert.deepEqual(task.result.content, [{ type: "text", text: "Hello, Ada, from A" }]);

    // Cancelled through B, the handler on A stops: its task never completes, and stays cancelled.
    const slow = await rpc(a, "tools/call", { name: "digest_board", arguments: { ms: 600_000 } });
    assert.equal(slow.resultType, "task");
    assert.equal((await rpc(b, "tasks/cancel", { taskId: slow.taskId })).resultType, "complete");
    // A answers from its own copy while the task runs there: "cancelled" from A means the bus told it.
    const deadline = Date.now() + 10_000;
    while ((await rpc(a, "tasks/get", { taskId: slow.taskId })).status !== "cancelled") {
      assert.ok(Date.now() < deadline, "A heard the cancellation");
      await pause();
    }
    assert.equal((await rpc(c, "tasks/get", { taskId: slow.taskId })).status, "cancelled");
  });

  test("an HTTP client whose every request goes to another instance completes a session (official SDK client)", async () => {
    const ports: string[] = [];
    const client = newSdkClient("rotating");
    const transport = new StreamableHTTPClientTransport(a.http, { fetch: rotating([a.http, b.http, c.http], ports) });
    await client.connect(transport);
    const owner = transport.sessionId!.split(".")[0];
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t: { name: string }) => t.name === "post_note"));
    // The handler runs on the session's owner (A); the sampling request reaches the client through whichever
    // instance carries the stream, and the client's answer, posted to yet another instance, reaches A.
    const asked = await client.callTool({ name: "ask", arguments: {} });
    assert.deepEqual(asked.content, [{ type: "text", text: "A heard: summary of 4 chars" }]);
    const elicited = await client.callTool({ name: "greet", arguments: {} });
    assert.deepEqual(elicited.content, [{ type: "text", text: "Hello, Ada, from A" }]);
    const posted = await client.callTool({ name: "post_note", arguments: { text: "rotating" } });
    assert.match((posted.content as { text: string }[])[0].text, /^Posted note #\d+$/);
    const read = await client.readResource({ uri: "notes://board" });
    assert.ok(
      JSON.parse((read.contents[0] as { text: string }).text).some((n: { text: string }) => n.text === "rotating"),
    );
    assert.ok(new Set(ports).size === 3, `requests went to every instance: ${ports.join(",")}`);
    await transport.terminateSession();
    // DELETE is cluster-wide: the session is gone on every instance.
    for (const i of [a, b, c]) {
      const res = await postJson(i.http, { id: 9, method: "tools/list" }, {
        "mcp-session-id": `${owner}.${transport.sessionId?.split(".")[1] ?? "x"}`,
      });
      assert.equal(res.status, 404);
      await res.text();
    }
    await client.close();
  });

  test("an owner busy for longer than three heartbeats is not taken for dead", async () => {
    const hdr = await openHttpSession(a.http, "busy");
    await (await postJson(b.http, { method: "notifications/initialized" }, hdr)).text();
    // Through C while A holds its event loop for four heartbeats (500 ms each): no beat, no pulse meanwhile.
    const res = await postJson(c.http, {
      id: 2,
      method: "tools/call",
      params: { name: "block", arguments: { ms: 2000 } },
    }, {
      ...hdr,
      accept: "application/json",
    });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.equal(JSON.parse(body).result.content[0].text, "A blocked 2000 ms");
    const again = await postJson(b.http, { id: 3, method: "ping" }, hdr);
    assert.equal(again.status, 200, "the session lives on");
    await again.text();
  });

  test("a dropped stream resumes with Last-Event-ID on another instance", async () => {
    const hdr = await openHttpSession(a.http, "resume");
    await (await postJson(b.http, { method: "notifications/initialized" }, hdr)).text();
    await (await postJson(c.http, { id: 2, method: "logging/setLevel", params: { level: "info" } }, hdr)).text();
    // The call goes through B to its owner A; the client reads one step, then drops the stream.
    const res = await postJson(
      b.http,
      { id: 3, method: "tools/call", params: { name: "steps", arguments: { n: 5 } } },
      {
        ...hdr,
        accept: "text/event-stream",
      },
    );
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const stream = sseReader(res);
    let last = (await stream.next("the priming event")).eventId!;
    const first = await stream.next("the first step");
    assert.deepEqual(first.params, { level: "info", data: "step 1" });
    last = first.eventId!;
    stream.cancel();
    // Resumed through C: the rest of the steps, then the result, nothing twice.
    const again = await fetch(c.http, { headers: { ...hdr, accept: "text/event-stream", "last-event-id": last } });
    assert.equal(again.status, 200);
    const rest = sseReader(again);
    const seen: string[] = [];
    for (;;) {
      const m = await rest.next("the rest of the stream");
      if (m.method === "notifications/message") seen.push(String(m.params!.data));
      if (m.id === 3) {
        assert.equal(m.result.content[0].text, "5 steps on A");
        break;
      }
    }
    assert.deepEqual(seen, ["step 2", "step 3", "step 4", "step 5"]);
    rest.cancel();
  });
});

describe("examples/cluster.ts: one instance on Deno, one on Bun", { skip }, () => {
  let redis: Redis;
  let d: Instance;
  let b: Instance;
  before(async () => {
    redis = new Redis(await closedPort());
    await redis.start();
    [d, b] = await Promise.all([
      startInstance("deno", "D", redis, { script: "examples/cluster.ts" }),
      startInstance("bun", "B", redis, { script: "examples/cluster.ts" }),
    ]);
  });
  after(async () => {
    await Promise.all([d, b].map((i) => i?.child.kill()));
    await redis?.stop();
  });

  test("a WebSocket client subscribed on Deno hears a note posted through Bun and reads it back", async () => {
    const reader = await connect(d.ws, { timeout: 10_000 });
    const writer = await connect(b.ws, { timeout: 10_000 });
    try {
      let heard!: () => void;
      const updated = new Promise<void>((r) => (heard = r));
      await reader.subscribe("notes://board", () => heard());
      const posted = await writer.callTool("post_note", { text: "hello from Bun" });
      assert.match(text(posted)!, /^Posted note #1$/);
      await within(updated, 10_000, "notes://board updated on the Deno instance");
      const read = await reader.readResource("notes://board");
      const notes = JSON.parse((read.contents[0] as { text: string }).text);
      assert.deepEqual(notes.map((n: { text: string }) => n.text), ["hello from Bun"]);
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  test("an HTTP client alternating between the two on every request completes a session", async () => {
    const ports: string[] = [];
    const client = new Client({ name: "alternating", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(d.http, { fetch: rotating([d.http, b.http], ports) });
    await client.connect(transport);
    const posted = await client.callTool({ name: "post_note", arguments: { text: "over HTTP" } });
    assert.match((posted.content as { text: string }[])[0].text, /^Posted note #\d+$/);
    const read = await client.readResource({ uri: "notes://board" });
    const notes = JSON.parse((read.contents[0] as { text: string }).text);
    assert.equal(notes.at(-1).text, "over HTTP");
    await transport.terminateSession();
    await client.close();
    assert.ok(ports.includes(String(d.port)) && ports.includes(String(b.port)), ports.join(","));
  });
});

describe("cluster faults", { skip }, () => {
  let redis: Redis;
  const instances: Instance[] = [];
  before(async () => {
    redis = new Redis(await closedPort());
    await redis.start();
  });
  after(async () => {
    await Promise.all(instances.map((i) => i.child.kill()));
    await redis?.stop();
  });

  test("an instance killed mid-session: its WebSocket clients reconnect to another and re-subscribe; its HTTP sessions get 404", async () => {
    // Two instances on one port (reusePort), as behind a load balancer.
    const port = await closedPort();
    const x = await startInstance("deno", "X", redis, { port });
    const y = await startInstance("bun", "Y", redis, { port });
    const z = await startInstance("deno", "Z", redis);
    instances.push(x, y, z);
    // An HTTP session opened through the shared port, and a WebSocket client on the same instance (the victim).
    const hdr = await openHttpSession(x.http, "h");
    const owner = await postJson(z.http, { id: 2, method: "tools/call", params: { name: "whoami", arguments: {} } }, {
      ...hdr,
      accept: "application/json",
    });
    const ownerBody = await owner.text();
    assert.equal(owner.status, 200, ownerBody);
    const victimName = JSON.parse(ownerBody).result?.content[0].text.split(" ")[0];
    assert.ok(victimName === "X" || victimName === "Y", ownerBody);
    const victim = victimName === "X" ? x : y;
    const survivor = victim === x ? y : x;
    let reconnected!: () => void;
    const back = new Promise<void>((r) => (reconnected = r));
    let client: McpClient | undefined;
    for (let tries = 0; !client && tries < 50; tries++) {
      const c = await connect(x.ws, {
        timeout: 10_000,
        reconnect: { minDelay: 50, maxDelay: 200 },
        onReconnect: () => reconnected(), // called once subscriptions are restored
      });
      if (text(await c.callTool("whoami", {}))!.startsWith(victimName)) client = c;
      else await c.close();
    }
    assert.ok(client, "a WebSocket connection landed on the instance of the HTTP session");
    const ws = client;
    await ws.subscribe("board://k", () => {});
    await victim.child.kill();
    // client.ts reconnects (same port: the kernel now has only the survivor) and subscribes again.
    await within(back, 15_000, "the reconnection");
    assert.match(text(await ws.callTool("whoami", {}))!, new RegExp(`^${survivor.name} `));
    const heard = new Promise<void>((r) => {
      const off = ws.on("notifications/resources/updated", (p) => p.uri === "board://k" && (off(), r()));
    });
    // Raised on Z: the re-subscribed session on the survivor hears it.
    const zc = await connect(z.ws, { timeout: 10_000 });
    await zc.callTool("touch", { uri: "board://k" });
    await within(heard, 10_000, "the update after reconnecting");
    await zc.close();
    await ws.close();
    // The victim's HTTP session is gone: 404 through any instance, and the client may initialize anew.
    let status = 0;
    await within(
      (async () => {
        for (;;) {
          const res = await postJson(z.http, { id: 3, method: "ping" }, hdr);
          status = res.status;
          await res.text();
          if (status === 404) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      10_000,
      "404 for the dead instance's session",
    );
    assert.equal(status, 404);
    const fresh = await postJson(z.http, {
      id: 4,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "h", version: "1" } },
    });
    assert.equal(fresh.status, 200);
    assert.ok(fresh.headers.get("mcp-session-id"));
    await fresh.text();
  });

  test("Redis restarted mid-run: a clear error, local sessions keep working, fan-out comes back", async () => {
    const p = await startInstance("bun", "P", redis);
    const q = await startInstance("deno", "Q", redis);
    instances.push(p, q);
    const cp = await connect(p.ws, { timeout: 10_000 });
    const cq = await connect(q.ws, { timeout: 10_000 });
    // Meanwhile an HTTP session of P is used through Q: 503 (retry) while Redis is away, never 404.
    const hdr = await openHttpSession(p.http, "outage");
    const statuses: number[] = [];
    let polling = true;
    const poll = (async () => {
      for (let id = 10; polling; id++) {
        const res = await postJson(q.http, { id, method: "ping" }, hdr);
        statuses.push(res.status);
        await res.text();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await cq.subscribe("board://r", () => {});
      const first = next(cq, "notifications/resources/updated", "an update before the restart");
      await cp.callTool("touch", { uri: "board://r" });
      await first;

      await redis.stop();
      for (const i of [p, q]) {
        await waitFor(() => /the bus is unreachable/.test(i.child.stderr), `${i.name} reporting Redis down`, 10_000);
      }
      // Local sessions keep working, and an update raised on Q still reaches Q's own subscriber.
      assert.match(text(await cp.callTool("whoami", {}))!, /^P bun/);
      const local = next(cq, "notifications/resources/updated", "a local update while Redis is down");
      await cq.callTool("touch", { uri: "board://r" });
      await local;

      await redis.start();
      for (const i of [p, q]) {
        await waitFor(() => /the bus is back/.test(i.child.stderr), `${i.name} reporting Redis back`, 20_000);
      }
      const again = next(cq, "notifications/resources/updated", "an update after the restart");
      await cp.callTool("touch", { uri: "board://r" });
      await again;
      await waitFor(() => statuses.includes(503), "a request refused with 503 while Redis was away", 10_000);
      await waitFor(
        () => statuses.lastIndexOf(200) > statuses.lastIndexOf(503),
        "the session served through Q again",
        10_000,
      );
      polling = false;
      await poll;
      assert.ok(!statuses.includes(404), `no 404 for a live session: ${statuses}`);
    } finally {
      polling = false;
      await cp.close();
      await cq.close();
    }
  });

  test("Redis unreachable at start: a clear error, and the instance serves its own clients", async () => {
    const port = await closedPort();
    const lone = new Redis(port);
    const i = await startInstance("deno", "L", lone);
    instances.push(i);
    await waitFor(() => /the bus is unreachable/.test(i.child.stderr), "the instance reporting Redis down", 10_000);
    const cl = await connect(i.ws, { timeout: 10_000 });
    try {
      assert.match(text(await cl.callTool("whoami", {}))!, /^L deno/);
      // A session id naming another instance cannot be served while the bus is down: 503, not a hang.
      const res = await postJson(i.http, { id: 1, method: "ping" }, { "mcp-session-id": "AAAAAAAAAAAA.x" });
      assert.equal(res.status, 503);
      await res.text();
      await lone.start();
      await waitFor(() => /the bus is back/.test(i.child.stderr), "the instance reporting Redis back", 20_000);
    } finally {
      await cl.close();
      await lone.stop();
    }
  });
});
