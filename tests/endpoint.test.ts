// What a person meets at the endpoint and in the server's output: a plain GET
// says what the endpoint is, other paths name it, a throwing `authenticate`
// is reported once, and normal HTTP use prints nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { httpHandler, McpServer, type ServeHandle } from "../mod.ts";
import { closedPort, launch, listening, runtimeName, sseMessages, start } from "./testdata/helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
};

describe("a plain GET of the endpoint", () => {
  let h: ServeHandle;
  let wsOnly: ServeHandle;
  before(() => {
    // The page off, so that a browser's GET gets the plain answer too (with it: tests/page.test.ts).
    h = start(new McpServer({ name: "shop", version: "2.1.0" }), { page: false });
    wsOnly = start(new McpServer({ name: "shop", version: "2.1.0" }), { http: false });
  });
  after(() => Promise.all([h.close({ timeout: 100 }), wsOnly.close({ timeout: 100 })]));

  for (const accept of [undefined, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"]) {
    test(`Accept ${accept ?? "(none)"}: 200, what the endpoint is and both URLs`, async () => {
      const res = await fetch(h.httpUrl, { headers: accept ? { accept } : {} });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
      const body = await res.text();
      assert.match(body, /MCP \(Model Context Protocol\) server endpoint: shop 2\.1\.0/);
      assert.ok(body.includes(`${h.url.href}  (WebSocket`), body);
      assert.ok(body.includes(`${h.httpUrl.href}  (Streamable HTTP`), body);
    });
  }

  test("MCP clients' GETs keep Streamable HTTP's answers", async () => {
    const sse = await fetch(h.httpUrl, { headers: { accept: "text/event-stream" } });
    assert.equal(sse.status, 400, "a stream needs a session");
    assert.match(await sse.text(), /Mcp-Session-Id/i);
    const unknown = await fetch(h.httpUrl, { headers: { accept: "*/*", "mcp-session-id": "nope" } });
    assert.equal(unknown.status, 404, "a session id makes it a stream request");
    await unknown.body?.cancel();
  });

  test("other paths get 404 naming the endpoint; WebSocket alone answers 426 with its URL", async () => {
    const root = await fetch(new URL("/", h.httpUrl));
    assert.equal(root.status, 404);
    assert.match(await root.text(), /the MCP endpoint is \/mcp/);
    const ws = await fetch(wsOnly.httpUrl);
    assert.equal(ws.status, 426);
    assert.ok((await ws.text()).includes(wsOnly.url.href));
  });

  test("httpHandler alone names only its HTTP URL", async () => {
    const handler = httpHandler(new McpServer({ name: "solo", version: "1" }));
    const res = await handler.fetch(new Request("http://127.0.0.1:9/mcp"));
    const body = await res.text();
    assert.match(body, /solo 1\./);
    assert.doesNotMatch(body, /ws:\/\//);
    assert.match(body, /http:\/\/127\.0\.0\.1:9\/mcp {2}\(Streamable HTTP/);
  });
});

describe("authenticate that throws", () => {
  test("refuses with 401 and logs the error once per hook", async () => {
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    const h = start(new McpServer({ name: "t", version: "1" }), {
      authenticate() {
        throw new Error("the token store is down");
      },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(h.httpUrl, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
          body: JSON.stringify(INIT),
        });
        assert.equal(res.status, 401);
        await res.body?.cancel();
      }
    } finally {
      console.error = original;
      await h.close({ timeout: 100 });
    }
    assert.equal(logged.length, 1, "logged once");
    assert.match(String(logged[0][0]), /authenticate threw/);
    assert.match(String((logged[0][1] as Error).message), /the token store is down/);
  });
});

test(`the example server prints nothing but its address under HTTP use (${runtimeName})`, async () => {
  const port = await closedPort();
  const args = runtimeName === "deno" ? ["run", "-A", "examples/server.ts"] : ["run", "examples/server.ts"];
  const child = await launch(process.execPath, args, { cwd: ROOT, env: { PORT: String(port) } });
  try {
    await listening(port, child);
    const url = `http://127.0.0.1:${port}/mcp`;
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const post = (body: unknown, extra: Record<string, string> = {}) =>
      fetch(url, { method: "POST", headers: { ...headers, ...extra }, body: JSON.stringify(body) });
    for (let round = 0; round < 20; round++) {
      const init = await post(INIT);
      const sid = init.headers.get("mcp-session-id")!;
      await init.text();
      const session = { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
      await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session)).text();
      // A call answered on an SSE stream, with progress on the way.
      const call = await post({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "slow", arguments: { ms: 10, steps: 2 }, _meta: { progressToken: 1 } },
      }, session);
      const frames = sseMessages(await call.text());
      assert.deepEqual(frames.at(-1)?.result, { content: [{ type: "text", text: "waited 10 ms" }] });
      // A GET stream the client drops, then the session's end.
      const ac = new AbortController();
      const stream = await fetch(url, { headers: { accept: "text/event-stream", ...session }, signal: ac.signal });
      assert.equal(stream.status, 200);
      ac.abort();
      await stream.body?.cancel().catch(() => {});
      const del = await fetch(url, { method: "DELETE", headers: session });
      assert.equal(del.status, 200);
    }
  } finally {
    await child.kill();
  }
  assert.match(child.stdout, /^MCP server listening on /);
  assert.equal(child.stderr, "", "nothing on stderr (Deno once warned about request.signal here)");
});
