// Streamable HTTP (2025-11-25): raw fetch for the protocol details, the
// official SDK's StreamableHTTPClientTransport against examples/server.ts, and
// one McpServer answering over WebSocket and HTTP at once.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
// The SDK's "./*" export maps types to "*.js.d.ts", which does not exist, so under Deno (its npm resolution,
// no node_modules) these imports are untyped: the callbacks below annotate what the tests rely on.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { WebSocketClientTransport } from "@modelcontextprotocol/sdk/client/websocket.js";
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { ErrorCode, McpError, McpServer } from "../mod.ts";
import { closeSseStream, httpHandler, mcpHandler } from "../mod.ts";
import { createServer } from "../examples/server.ts";
import { deferred, initializeBody, sseMessages, waitFor, within } from "./testdata/helpers.ts";
import { cancelSlowCall, newSdkClient } from "./testdata/sdk_client.ts";

// ---------------------------------------------------------------------------
// Helpers

// deno-lint-ignore no-explicit-any
const rt = globalThis as any;
const TIMEOUT = 5000;

interface Listening {
  url: URL;
  close(): Promise<void>;
}

/** Serves a fetch handler (and Bun websocket handlers) on a free loopback port, on Deno or Bun. */
function listen(
  // deno-lint-ignore no-explicit-any
  fetch: (req: Request, server?: any) => Response | undefined | Promise<Response | undefined>,
  // deno-lint-ignore no-explicit-any
  websocket?: any,
): Listening {
  if (rt.Bun) {
    const s = rt.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch, websocket });
    return { url: new URL(`http://127.0.0.1:${s.port}/mcp`), close: async () => void (await s.stop(true)) };
  }
  const s = rt.Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, fetch);
  return { url: new URL(`http://127.0.0.1:${s.addr.port}/mcp`), close: () => s.shutdown() };
}

interface SseEvent {
  id?: string;
  data: string;
  retry?: number;
}

/** Reads the SSE events of a response one by one; comments and retry-only blocks are skipped. */
class SseReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #decoder = new TextDecoder();
  #buf = "";
  #ended = false;
  /** The last `retry` value seen. */
  retry?: number;

  constructor(res: Response) {
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    this.#reader = res.body!.getReader();
  }

  /** The next event, or null once the server ended the stream. */
  next(timeout = TIMEOUT): Promise<SseEvent | null> {
    return within(this.#next(), timeout, "SSE event");
  }

  async #next(): Promise<SseEvent | null> {
    for (;;) {
      const end = this.#buf.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buf.slice(0, end);
        this.#buf = this.#buf.slice(end + 2);
        const ev: SseEvent = { data: "" };
        let hasData = false;
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const i = line.indexOf(":");
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
          if (field === "id") ev.id = value;
          else if (field === "retry") this.retry = ev.retry = Number(value);
          else if (field === "data") (ev.data = hasData ? `${ev.data}\n${value}` : value, hasData = true);
        }
        if (hasData || ev.id !== undefined) return ev;
        continue;
      }
      if (this.#ended) return null;
      const { done, value } = await this.#reader.read();
      if (done) this.#ended = true;
      else this.#buf += this.#decoder.decode(value, { stream: true });
    }
  }

  /** The next event that carries a JSON-RPC message, parsed. */
  async message(timeout = TIMEOUT): Promise<Record<string, unknown>> {
    for (;;) {
      const ev = await this.next(timeout);
      if (ev === null) throw new Error("the SSE stream ended before a message");
      if (ev.data) return JSON.parse(ev.data);
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

const BOTH = "application/json, text/event-stream";

/** A raw Streamable HTTP client: exact requests, exact headers. */
class HttpClient {
  sessionId?: string;
  version = "2025-11-25";
  #id = 1;

  constructor(readonly url: URL) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { "content-type": "application/json", accept: BOTH };
    if (this.sessionId) h["mcp-session-id"] = this.sessionId;
    if (this.sessionId) h["mcp-protocol-version"] = this.version;
    return { ...h, ...extra };
  }

  post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(this.url, {
      method: "POST",
      headers: this.headers(headers),
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  }

  /** Sends a request and returns the raw response. */
  request(method: string, params?: Record<string, unknown>, headers?: Record<string, string>): Promise<Response> {
    const id = this.#id++;
    return this.post(
      params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params },
      headers,
    );
  }

  /** Sends a request that is answered with JSON and returns the JSON-RPC response. */
  async call(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await this.request(method, params, { accept: "application/json" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    return await res.json();
  }

  async initialize(capabilities: Record<string, unknown> = {}, version = "2025-11-25"): Promise<Response> {
    const res = await this.request("initialize", {
      protocolVersion: version,
      capabilities,
      clientInfo: { name: "raw", version: "1" },
    });
    const id = res.headers.get("mcp-session-id");
    if (id) this.sessionId = id;
    this.version = version;
    return res;
  }

  /** initialize + notifications/initialized. */
  async ready(capabilities: Record<string, unknown> = {}, version = "2025-11-25"): Promise<this> {
    const res = await this.initialize(capabilities, version);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const note = await this.post({ jsonrpc: "2.0", method: "notifications/initialized" });
    assert.equal(note.status, 202);
    return this;
  }

  /** Opens the session's GET stream. */
  async stream(lastEventId?: string): Promise<SseReader> {
    const headers: Record<string, string> = { accept: "text/event-stream", "mcp-session-id": this.sessionId! };
    if (lastEventId) headers["last-event-id"] = lastEventId;
    const res = await fetch(this.url, { headers });
    assert.equal(res.status, 200);
    return new SseReader(res);
  }

  async end(): Promise<void> {
    if (!this.sessionId) return;
    const res = await fetch(this.url, { method: "DELETE", headers: { "mcp-session-id": this.sessionId } });
    await res.body?.cancel();
  }
}

// ---------------------------------------------------------------------------
// Raw protocol

describe("Streamable HTTP: protocol details", () => {
  let server: McpServer;
  let gate = deferred();
  let h: ReturnType<typeof httpHandler>;
  let l: Listening;
  before(() => {
    server = createServer();
    server.tool("wait_for_gate", { description: "closes its SSE stream, then waits for the test" }, async (_a, ctx) => {
      closeSseStream(ctx);
      await gate.promise;
      ctx.log("info", "after the gate");
      return "gate passed";
    });
    server.tool("whoami", {}, (_a, ctx) => JSON.stringify(ctx.auth ?? null));
    h = httpHandler(server);
    l = listen(h.fetch);
  });
  after(async () => {
    await h.close({ timeout: 100 });
    await l.close();
  });

  test("initialize answers with JSON and a session id; initialized gets 202", async () => {
    const c = new HttpClient(l.url);
    const res = await c.initialize();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    const body = await res.json();
    assert.equal(body.result.protocolVersion, "2025-11-25");
    assert.equal(body.result.serverInfo.name, "example");
    assert.match(c.sessionId ?? "", /^[\x21-\x7e]{16,}$/, "a session id of visible ASCII");
    const note = await c.post({ jsonrpc: "2.0", method: "notifications/initialized" });
    assert.equal(note.status, 202);
    assert.equal(await note.text(), "");
    assert.deepEqual((await c.call("ping")).result, {});
    await c.end();
  });

  test("a failed initialize opens no session", async () => {
    const before = h.sessions;
    const c = new HttpClient(l.url);
    const res = await c.request("initialize", { capabilities: {}, clientInfo: { name: "x", version: "1" } });
    assert.equal(res.headers.get("mcp-session-id"), null);
    const body = await res.json();
    assert.equal(body.error.code, ErrorCode.InvalidParams);
    assert.equal(h.sessions, before);
  });

  test("session header rules: missing 400, unknown 404, bad protocol version 400, DELETE ends it", async () => {
    const anon = new HttpClient(l.url);
    const missing = await anon.request("tools/list");
    assert.equal(missing.status, 400);
    assert.match((await missing.json()).error.message, /Mcp-Session-Id/);

    const c = await new HttpClient(l.url).ready();
    const badVersion = await c.request("tools/list", undefined, { "mcp-protocol-version": "1999-01-01" });
    assert.equal(badVersion.status, 400);
    await badVersion.body?.cancel();
    // An older but supported version header is accepted (the suite sends 2025-03-26 on 2025-11-25 sessions).
    const older = await c.request("ping", undefined, {
      "mcp-protocol-version": "2025-03-26",
      accept: "application/json",
    });
    assert.equal(older.status, 200);
    await older.body?.cancel();

    const del = await fetch(l.url, { method: "DELETE", headers: { "mcp-session-id": c.sessionId! } });
    assert.equal(del.status, 200);
    await del.body?.cancel();
    const gone = await c.request("ping");
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
  });

  test("body and method errors: parse error, wrong content type, invalid message, 405, 404 path", async () => {
    const c = await new HttpClient(l.url).ready();
    const parse = await c.post("{not json");
    assert.equal(parse.status, 400);
    assert.equal((await parse.json()).error.code, ErrorCode.ParseError);
    const type = await c.post({ jsonrpc: "2.0", id: 1, method: "ping" }, { "content-type": "text/plain" });
    assert.equal(type.status, 415);
    await type.body?.cancel();
    const invalid = await c.post({ jsonrpc: "1.0", id: 7, method: "ping" });
    assert.equal(invalid.status, 400);
    const err = await invalid.json();
    assert.equal(err.id, 7);
    assert.equal(err.error.code, ErrorCode.InvalidRequest);
    const put = await fetch(l.url, { method: "PUT" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, POST, DELETE, OPTIONS");
    await put.body?.cancel();
    const other = await fetch(new URL("/elsewhere", l.url), { method: "POST" });
    assert.equal(other.status, 404);
    await other.body?.cancel();
    await c.end();
  });

  test("a request id already in flight is refused", async () => {
    const c = await new HttpClient(l.url).ready();
    const slow = await c.post({
      jsonrpc: "2.0",
      id: "dup",
      method: "tools/call",
      params: { name: "slow", arguments: { ms: 10_000, steps: 1 } },
    });
    const events = new SseReader(slow);
    assert.equal((await events.next())?.data, "", "priming");
    const again = await c.post({ jsonrpc: "2.0", id: "dup", method: "ping" });
    assert.equal(again.status, 400);
    assert.equal((await again.json()).id, "dup");
    await c.post({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "dup" } }).then((r) =>
      r.body?.cancel()
    );
    assert.equal(await events.next(), null, "a cancelled request's stream ends without a response");
    await c.end();
  });

  test("an async tool answers on an SSE stream: priming event first, progress, then the result", async () => {
    const c = await new HttpClient(l.url).ready();
    const res = await c.request("tools/call", {
      name: "slow",
      arguments: { ms: 30, steps: 3 },
      _meta: { progressToken: "p1" },
    });
    assert.equal(res.status, 200);
    const events = new SseReader(res);
    const priming = await events.next();
    assert.ok(priming?.id, "the priming event has an id");
    assert.equal(priming!.data, "");
    assert.equal(typeof priming!.retry, "number");
    const progress: number[] = [];
    let result: Record<string, unknown> | undefined;
    for (;;) {
      const ev = await events.next();
      if (ev === null) break;
      assert.ok(ev.id, "every event has an id");
      const msg = JSON.parse(ev.data);
      if (msg.method === "notifications/progress") progress.push(msg.params.progress);
      else result = msg;
    }
    assert.deepEqual(progress, [1, 2, 3]);
    assert.deepEqual((result!.result as { content: unknown }).content, [{ type: "text", text: "waited 30 ms" }]);
    await c.end();
  });

  test("a client that accepts only SSE gets even a quick answer as a stream", async () => {
    const c = await new HttpClient(l.url).ready();
    const res = await c.request("ping", undefined, { accept: "text/event-stream" });
    const events = new SseReader(res);
    const msg = await events.message();
    assert.deepEqual(msg.result, {});
    assert.equal(await events.next(), null);
    await c.end();
  });

  test("a client that accepts only JSON gets JSON; the request's progress goes to the GET stream", async () => {
    const c = await new HttpClient(l.url).ready();
    const get = await c.stream();
    assert.equal((await get.next())?.data, "", "the GET stream starts with a priming event");
    const res = await c.request(
      "tools/call",
      { name: "slow", arguments: { ms: 20, steps: 2 }, _meta: { progressToken: 9 } },
      { accept: "application/json" },
    );
    assert.equal(res.headers.get("content-type"), "application/json");
    const body = await res.json();
    assert.deepEqual(body.result.content, [{ type: "text", text: "waited 20 ms" }]);
    const first = await get.message();
    assert.equal(first.method, "notifications/progress");
    assert.equal((first.params as { progressToken: number }).progressToken, 9);
    await get.cancel();
    await c.end();
  });

  test("406 when the client accepts neither JSON nor SSE", async () => {
    const c = await new HttpClient(l.url).ready();
    const res = await c.request("ping", undefined, { accept: "text/html" });
    assert.equal(res.status, 406);
    await res.body?.cancel();
    await c.end();
  });

  test("elicitation round trip: the request to the client comes on the POST stream, its answer is a POST", async () => {
    const c = await new HttpClient(l.url).ready({ elicitation: {} });
    const res = await c.request("tools/call", { name: "greet_user", arguments: {} });
    const events = new SseReader(res);
    const ask = await events.message();
    assert.equal(ask.method, "elicitation/create");
    const answer = await c.post({
      jsonrpc: "2.0",
      id: ask.id,
      result: { action: "accept", content: { name: "Grace" } },
    });
    assert.equal(answer.status, 202);
    await answer.body?.cancel();
    const result = await events.message();
    assert.deepEqual((result.result as { content: unknown }).content, [{ type: "text", text: "Hello, Grace!" }]);
    assert.equal(await events.next(), null, "the stream ends after the response");
    await c.end();
  });

  test("server messages unrelated to a request go on the GET stream: log, list_changed, resources/updated", async () => {
    const c = await new HttpClient(l.url).ready();
    const get = await c.stream();
    await get.next(); // priming
    assert.deepEqual((await c.call("resources/subscribe", { uri: "config://app" })).result, {});
    server.log("warning", "disk almost full");
    const reg = server.tool("transient", {}, () => "x");
    server.resourceUpdated("config://app");
    const got = [await get.message(), await get.message(), await get.message()].map((m) => m.method);
    assert.deepEqual(got.sort(), [
      "notifications/message",
      "notifications/resources/updated",
      "notifications/tools/list_changed",
    ]);
    reg.remove();
    await get.cancel();
    await c.end();
  });

  test("a stream the server closes mid-call resumes with Last-Event-ID and delivers the rest", async () => {
    gate = deferred();
    const c = await new HttpClient(l.url).ready();
    assert.deepEqual((await c.call("logging/setLevel", { level: "debug" })).result, {});
    const res = await c.request("tools/call", { name: "wait_for_gate", arguments: {} });
    const first = new SseReader(res);
    const priming = await first.next();
    assert.equal(priming?.data, "");
    assert.equal(await first.next(), null, "the server closed the stream before the result");
    gate.resolve();
    const resumed = await c.stream(priming!.id);
    const log = await resumed.next();
    assert.equal(JSON.parse(log!.data).method, "notifications/message");
    const last = await resumed.next();
    assert.deepEqual(JSON.parse(last!.data).result.content, [{ type: "text", text: "gate passed" }]);
    assert.equal(await resumed.next(), null, "the resumed stream ends after the response");
    // Resuming from the middle replays what followed; resuming from the end has nothing left to send.
    const replayed = await c.stream(log!.id);
    assert.equal((await replayed.message()).id, JSON.parse(last!.data).id);
    assert.equal(await replayed.next(), null);
    const again = await fetch(l.url, {
      headers: { accept: "text/event-stream", "mcp-session-id": c.sessionId!, "last-event-id": last!.id! },
    });
    assert.equal(again.status, 204);
    await c.end();
  });

  test("the GET stream resumes after a broken connection without losing messages", async () => {
    const c = await new HttpClient(l.url).ready();
    const get = await c.stream();
    await get.next(); // priming
    server.log("error", "one");
    const one = await get.next();
    assert.equal(JSON.parse(one!.data).params.data, "one");
    await get.cancel(); // the connection breaks
    server.log("error", "two");
    server.log("error", "three");
    const again = await c.stream(one!.id);
    const data = [await again.message(), await again.message()].map((m) => (m.params as { data: string }).data);
    assert.deepEqual(data, ["two", "three"]);
    await again.cancel();
    await c.end();
  });

  test("origin check and authenticate hook, as on the WebSocket side", async () => {
    const guarded = httpHandler(server, {
      authenticate: (req) => req.headers.get("authorization") === "Bearer t0k" ? { user: "ada" } : undefined,
    });
    const g = listen(guarded.fetch);
    try {
      const c = new HttpClient(g.url);
      const evil = await c.request("initialize", {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "x", version: "1" },
      }, {
        origin: "http://evil.example.com",
        authorization: "Bearer t0k",
      });
      assert.equal(evil.status, 403);
      await evil.body?.cancel();
      const anon = await c.initialize();
      assert.equal(anon.status, 401);
      assert.match(anon.headers.get("www-authenticate") ?? "", /^Bearer realm="mcp"/);
      await anon.body?.cancel();
      const auth = { authorization: "Bearer t0k", origin: `http://127.0.0.1:${g.url.port}` };
      const ok = await c.request("initialize", {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "x", version: "1" },
      }, auth);
      assert.equal(ok.status, 200);
      c.sessionId = ok.headers.get("mcp-session-id")!;
      await ok.body?.cancel();
      const who = await c.request("tools/call", { name: "whoami", arguments: {} }, {
        ...auth,
        accept: "application/json",
      });
      assert.deepEqual((await who.json()).result.content, [{ type: "text", text: '{"user":"ada"}' }]);
      const noToken = await c.request("ping");
      assert.equal(noToken.status, 401, "every request is authenticated, not only initialize");
      await noToken.body?.cancel();
    } finally {
      await guarded.close({ timeout: 100 });
      await g.close();
    }
  });

  test("batches: accepted from 2025-03-26 sessions, refused from 2025-11-25 ones", async () => {
    const old = await new HttpClient(l.url).ready({}, "2025-03-26");
    const res = await old.post([{ jsonrpc: "2.0", id: "a", method: "ping" }, {
      jsonrpc: "2.0",
      id: "b",
      method: "ping",
    }], {
      accept: "application/json",
    });
    assert.equal(res.status, 200);
    const batch = await res.json();
    assert.deepEqual(batch.map((m: { id: string }) => m.id).sort(), ["a", "b"]);
    await old.end();
    const modern = await new HttpClient(l.url).ready();
    const refused = await modern.post([{ jsonrpc: "2.0", id: "a", method: "ping" }]);
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).error.code, ErrorCode.InvalidRequest);
    await modern.end();
  });
  test("a batch whose every request is cancelled still ends its POST (202, no response)", async () => {
    const old = await new HttpClient(l.url).ready({}, "2025-03-26");
    const pending = old.post([{
      jsonrpc: "2.0",
      id: "b1",
      method: "tools/call",
      params: { name: "slow", arguments: { ms: 10_000, steps: 1 } },
    }], { accept: "application/json" });
    const session = [...server.sessions].find((s) => s.protocolVersion === "2025-03-26")!;
    await within(
      (async () => {
        while (session.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      TIMEOUT,
      "the batch to be in flight",
    );
    const cancel = await old.post({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "b1" } });
    assert.equal(cancel.status, 202);
    const res = await within(pending, 2000, "the cancelled batch's POST to end");
    assert.equal(res.status, 202);
    await old.end();
  });
});

describe("Streamable HTTP: limits and lifecycle", () => {
  test("maxSessions refuses further initialize requests with 503", async () => {
    const h = httpHandler(new McpServer({ name: "t", version: "1" }), { maxSessions: 1 });
    const l = listen(h.fetch);
    try {
      const a = await new HttpClient(l.url).ready();
      const b = await new HttpClient(l.url).initialize();
      assert.equal(b.status, 503);
      await b.body?.cancel();
      await a.end();
      const c = await new HttpClient(l.url).initialize();
      assert.equal(c.status, 200, "a freed slot can be used again");
      await c.body?.cancel();
    } finally {
      await h.close({ timeout: 100 });
      await l.close();
    }
  });

  test("an idle session expires and its id then gets 404", async () => {
    const h = httpHandler(new McpServer({ name: "t", version: "1" }), { sessionIdleTimeout: 300 });
    const l = listen(h.fetch);
    try {
      const c = await new HttpClient(l.url).ready();
      assert.equal(h.sessions, 1);
      await within(
        (async () => {
          while (h.sessions > 0) await new Promise((r) => setTimeout(r, 50));
        })(),
        TIMEOUT,
        "session expiry",
      );
      const res = await c.request("ping");
      assert.equal(res.status, 404);
      await res.body?.cancel();
    } finally {
      await h.close({ timeout: 100 });
      await l.close();
    }
  });

  test("retained events are capped: a late GET gets only the newest", async () => {
    const server = new McpServer({ name: "t", version: "1" });
    const h = httpHandler(server, { maxRetainedEvents: 2 });
    const l = listen(h.fetch);
    try {
      const c = await new HttpClient(l.url).ready();
      for (const word of ["a", "b", "c", "d", "e"]) server.log("error", word);
      const get = await c.stream();
      await get.next(); // priming
      const data = [await get.message(), await get.message()].map((m) => (m.params as { data: string }).data);
      assert.deepEqual(data, ["d", "e"]);
      // Nothing older was kept: the next event after them is a fresh one.
      server.log("error", "marker");
      assert.equal(((await get.message()).params as { data: string }).data, "marker");
      await get.cancel();
      await c.end();
    } finally {
      await h.close({ timeout: 100 });
      await l.close();
    }
  });

  test("open SSE streams carry keep-alive comments", async () => {
    const h = httpHandler(new McpServer({ name: "t", version: "1" }), { keepAlive: 50 });
    const l = listen(h.fetch);
    try {
      const c = await new HttpClient(l.url).ready();
      const res = await fetch(l.url, { headers: { accept: "text/event-stream", "mcp-session-id": c.sessionId! } });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      await within(
        (async () => {
          while (!text.includes(": keep-alive\n\n")) text += decoder.decode((await reader.read()).value);
        })(),
        TIMEOUT,
        "a keep-alive comment",
      );
      await reader.cancel();
      await c.end();
    } finally {
      await h.close({ timeout: 100 });
      await l.close();
    }
  });

  test("close() lets a request in flight finish and answers it, then ends the session", async () => {
    const server = createServer();
    const h = httpHandler(server);
    const l = listen(h.fetch);
    try {
      const c = await new HttpClient(l.url).ready();
      const pending = c.request("tools/call", { name: "slow", arguments: { ms: 100, steps: 1 } }, {
        accept: "application/json",
      });
      await within(
        (async () => {
          while (!([...server.sessions][0]?.inFlight > 0)) await new Promise((r) => setTimeout(r, 5));
        })(),
        TIMEOUT,
        "the request to be in flight",
      );
      const closing = h.close({ timeout: 5000 });
      const res = await pending;
      assert.deepEqual((await res.json()).result.content, [{ type: "text", text: "waited 100 ms" }]);
      await closing;
      const after = await c.request("ping");
      assert.equal(after.status, 503);
      await after.body?.cancel();
    } finally {
      await l.close();
    }
  });
});

// ---------------------------------------------------------------------------
// The official SDK client

describe("official SDK client over Streamable HTTP", () => {
  let server: McpServer;
  let h: ReturnType<typeof httpHandler>;
  let l: Listening;
  let client: Client;
  let transport: StreamableHTTPClientTransport;
  before(async () => {
    server = createServer();
    server.tool("hang_up", { description: "closes its SSE stream before answering" }, async (_a, ctx) => {
      closeSseStream(ctx);
      await Promise.resolve();
      return "answered after the hang-up";
    });
    server.resource("slow://broken", { description: "fails after a tick" }, async () => {
      await Promise.resolve();
      throw new McpError(ErrorCode.InvalidParams, "broken on purpose");
    });
    h = httpHandler(server, { retryInterval: 20 });
    l = listen(h.fetch);
    client = newSdkClient();
    transport = new StreamableHTTPClientTransport(l.url);
    await client.connect(transport);
  });
  after(async () => {
    await transport.terminateSession();
    await client.close();
    await h.close({ timeout: 100 });
    await l.close();
  });

  test("initialize: a session id, server info and instructions", () => {
    assert.ok(transport.sessionId);
    assert.equal(client.getServerVersion()?.name, "example");
    assert.match(client.getInstructions() ?? "", /arithmetic/);
  });

  test("tools: list, call, structured output", async () => {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t: { name: string }) => t.name === "add"));
    const res = await client.callTool({ name: "add", arguments: { a: 20, b: 22 } });
    assert.deepEqual(res.content, [{ type: "text", text: "42" }]);
    const div = await client.callTool({ name: "divide", arguments: { a: 7, b: 2 } });
    assert.deepEqual(div.structuredContent, { quotient: 3, remainder: 1 });
  });

  test("resources: list, read, subscribe and get the update on the GET stream", async () => {
    const { resources } = await client.listResources();
    assert.ok(resources.some((r: { uri: string }) => r.uri === "config://app"));
    const cfg = await client.readResource({ uri: "config://app" });
    assert.deepEqual(JSON.parse((cfg.contents[0] as { text: string }).text), { theme: "dark", debug: false });
    const prof = await client.readResource({ uri: "users://grace/profile" });
    assert.equal((prof.contents[0] as { text: string }).text, "Profile of grace");
    const updated = new Promise<string>((resolve) =>
      client.setNotificationHandler(
        ResourceUpdatedNotificationSchema,
        (n: { params: { uri: string } }) => resolve(n.params.uri),
      )
    );
    await client.subscribeResource({ uri: "config://app" });
    server.resourceUpdated("config://app");
    assert.equal(await within(updated, TIMEOUT, "resources/updated"), "config://app");
  });

  test("prompts: list and get", async () => {
    const { prompts } = await client.listPrompts();
    assert.ok(prompts.some((p: { name: string }) => p.name === "review_code"));
    const got = await client.getPrompt({ name: "review_code", arguments: { code: "x = 1", language: "python" } });
    assert.match((got.messages[0].content as { text: string }).text, /python code:\n\nx = 1/);
  });

  test("progress and logging of a call arrive on its stream", async () => {
    const progress: number[] = [];
    const res = await client.callTool({ name: "slow", arguments: { ms: 20, steps: 4 } }, undefined, {
      onprogress: (p: { progress: number }) => progress.push(p.progress),
    });
    assert.deepEqual(res.content, [{ type: "text", text: "waited 20 ms" }]);
    assert.deepEqual(progress, [1, 2, 3, 4]);
    const logged = new Promise<string>((resolve) =>
      client.setNotificationHandler(
        LoggingMessageNotificationSchema,
        (n: { params: { data: unknown } }) => resolve(String(n.params.data)),
      )
    );
    await client.setLoggingLevel("info");
    server.log("info", "hello over http");
    assert.equal(await within(logged, TIMEOUT, "log message"), "hello over http");
  });

  test("server → client requests: elicitation, sampling, roots", async () => {
    const greet = await client.callTool({ name: "greet_user", arguments: {} });
    assert.deepEqual(greet.content, [{ type: "text", text: "Hello, Ada!" }]);
    const sum = await client.callTool({ name: "summarize", arguments: { text: "abcdef" } });
    assert.match((sum.content as { text: string }[])[0].text, /^summary of \d+ chars$/);
    const roots = await client.callTool({ name: "list_roots", arguments: {} });
    assert.deepEqual(roots.content, [{ type: "text", text: "file:///work" }]);
  });

  test("a JSON-RPC error from an async handler reaches the client over SSE", async () => {
    await assert.rejects(client.readResource({ uri: "slow://broken" }), /broken on purpose/);
  });

  test("a stream the server closes is resumed by the client with Last-Event-ID", async () => {
    const res = await client.callTool({ name: "hang_up", arguments: {} });
    assert.deepEqual(res.content, [{ type: "text", text: "answered after the hang-up" }]);
  });

  test("cancellation through AbortSignal stops the handler", async () => {
    await cancelSlowCall(client);
    // Over HTTP the cancel is a POST of its own and may land after the echo: wait for the handler to end.
    const session = [...server.sessions][0];
    await waitFor(() => session.inFlight === 0, "the cancelled handler to end");
  });
});

// ---------------------------------------------------------------------------
// One server, two transports

describe("one McpServer over WebSocket and HTTP at once", () => {
  test("both clients are served by the same instance at the same path", async () => {
    const server = createServer();
    const mcp = mcpHandler(server);
    const l = listen(mcp.fetch, mcp.websocket);
    const wsClient = newSdkClient();
    const httpClient = newSdkClient();
    const httpTransport = new StreamableHTTPClientTransport(l.url);
    try {
      const wsUrl = new URL(l.url);
      wsUrl.protocol = "ws:";
      await wsClient.connect(new WebSocketClientTransport(wsUrl));
      await httpClient.connect(httpTransport);
      assert.equal(server.sessions.size, 2);
      assert.deepEqual(new Set([...server.sessions].map((s) => s.transport)), new Set(["websocket", "http"]));
      assert.equal(mcp.connections, 1);
      assert.equal(mcp.sessions, 1);

      const [a, b] = await Promise.all([
        wsClient.callTool({ name: "add", arguments: { a: 1, b: 2 } }),
        httpClient.callTool({ name: "add", arguments: { a: 3, b: 4 } }),
      ]);
      assert.deepEqual(a.content, [{ type: "text", text: "3" }]);
      assert.deepEqual(b.content, [{ type: "text", text: "7" }]);

      // A change on the one server reaches both clients.
      const changed = (c: Client) =>
        new Promise<void>((resolve) => c.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      const both = Promise.all([changed(wsClient), changed(httpClient)]);
      const reg = server.tool("shared", { input: z.object({}) }, () => "shared tool");
      await within(both, TIMEOUT, "list_changed on both transports");
      const [wsTool, httpTool] = await Promise.all([
        wsClient.callTool({ name: "shared", arguments: {} }),
        httpClient.callTool({ name: "shared", arguments: {} }),
      ]);
      assert.deepEqual(wsTool.content, httpTool.content);
      reg.remove();
      // A plain HTTP request at the path is Streamable HTTP, not the WebSocket 426.
      const plain = await fetch(l.url, { method: "GET", headers: { accept: "text/event-stream" } });
      assert.equal(plain.status, 400, "a GET without a session is a Streamable HTTP error");
      await plain.body?.cancel();
    } finally {
      await httpTransport.terminateSession().catch(() => {});
      await httpClient.close();
      await wsClient.close();
      await mcp.close({ timeout: 100 });
      await l.close();
    }
  });
});

// ---------------------------------------------------------------------------
// Faults a review found, each proved by one of these first.

describe("Streamable HTTP: review regressions", () => {
  const modern = (id: number, name = "wait_abort") => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: {
      name,
      arguments: {},
      _meta: {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
      },
    },
  });
  const postModern = (body: unknown, accept = "application/json") =>
    new Request("http://127.0.0.1/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
      },
      body: JSON.stringify(body),
    });
  function fixture(options: Parameters<typeof httpHandler>[1] = {}) {
    const server = new McpServer({ name: "review", version: "1" });
    const started = deferred();
    server.tool("wait_abort", {}, (_a, ctx) =>
      new Promise((_r, reject) => {
        started.resolve();
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
      }));
    server.tool("whoami", {}, (_a, ctx) => JSON.stringify(ctx.auth ?? null));
    server.tool("quick", {}, () => "quick");
    return { server, started, h: httpHandler(server, { keepAlive: 0, ...options }) };
  }

  test("a client that hangs up on a JSON-only stateless response does not crash the server", async () => {
    const { started, h } = fixture();
    const res = (await h.fetch(postModern(modern(1))))!;
    await within(started.promise, 5000, "the handler starts");
    await res.body!.cancel();
    // The aborted handler settles after the hang-up; the server must stay up and answer.
    const next = (await h.fetch(postModern(modern(2, "quick"))))!;
    assert.equal((await next.json()).result.content[0].text, "quick");
    // Yield one macrotask (no delay): runtimes report an unhandled rejection at that boundary, so a throw
    // from the hung-up response would fail this test rather than a later one.
    await new Promise((r) => setTimeout(r, 0));
    await h.close({ timeout: 100 });
  });

  test("a stateless request in flight at close() is answered with an error, not an empty body", async () => {
    for (const accept of ["application/json", "text/event-stream"]) {
      const { started, h } = fixture();
      const res = (await h.fetch(postModern(modern(7), accept)))!;
      await within(started.promise, 5000, "the handler starts");
      await h.close({ timeout: 50 });
      const text = await res.text();
      const frame = accept === "application/json" ? JSON.parse(text) : sseMessages(text).at(-1);
      assert.equal(frame.id, 7, accept);
      assert.equal(frame.error.code, ErrorCode.ConnectionClosed, accept);
    }
  });

  test("a session opened by one principal is not found by another", async () => {
    const { h } = fixture({ authenticate: (req) => req.headers.get("authorization")?.slice(7) || undefined });
    const headers = (who: string, session?: string): Record<string, string> => ({
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${who}`,
      ...(session ? { "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" } : {}),
    });
    const init = (await h.fetch(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: headers("alice"),
        body: initializeBody("a"),
      }),
    ))!;
    const sid = init.headers.get("mcp-session-id")!;
    await init.body?.cancel();
    const call = (who: string) =>
      h.fetch(
        new Request("http://127.0.0.1/mcp", {
          method: "POST",
          headers: headers(who, sid),
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 2,
            method: "tools/call",
            params: { name: "whoami", arguments: {} },
          }),
        }),
      ) as Promise<Response>;
    const mallory = await call("mallory");
    assert.equal(mallory.status, 404);
    await mallory.body?.cancel();
    const alice = await call("alice");
    assert.equal(alice.status, 200);
    assert.match(await alice.text(), /\\"alice\\"/);
    const del =
      (await h.fetch(new Request("http://127.0.0.1/mcp", { method: "DELETE", headers: headers("mallory", sid) })))!;
    assert.equal(del.status, 404, "another principal cannot end the session either");
    await del.body?.cancel();
    await h.close({ timeout: 50 });
  });

  test("a request whose authenticate was still running when close() began is refused, and no session outlives close()", async () => {
    const gate = deferred();
    const { h } = fixture({ authenticate: async () => (await gate.promise, { user: "a" }) });
    const pending = h.fetch(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: initializeBody("a"),
      }),
    ) as Promise<Response>;
    await Promise.resolve();
    const closing = h.close({ timeout: 50 });
    gate.resolve();
    const res = await pending;
    assert.equal(res.status, 503);
    await res.body?.cancel();
    await closing;
    assert.equal(h.sessions, 0);
  });

  test("a request body that fails while being read gets 400, not a thrown error", async () => {
    const { h } = fixture();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"jsonrpc":'));
        c.error(new Error("connection reset"));
      },
    });
    const res = (await h.fetch(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body,
        duplex: "half",
      } as RequestInit),
    ))!;
    assert.equal(res.status, 400);
    await res.body?.cancel();
    await h.close({ timeout: 50 });
  });
});
