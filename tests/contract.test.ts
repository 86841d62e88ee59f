// The transport contract (channel.ts) as a transport of one's own sees it, and the edges it sets:
// SendMeta says what each message is, Session.dispatch() returns a refusal instead of sending it,
// Session.close(reason) carries its reason (a WebSocket close frame holds at most 123 bytes of it),
// and a handler's fetch() rejects rather than throws.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, httpHandler, McpServer, type SendMeta, type ServeHandle, type Session } from "../mod.ts";
import { RawClient, start, waitFor, within } from "./testdata/helpers.ts";

interface Sent {
  text: string;
  meta?: SendMeta;
}

function recorder(server: McpServer): { session: Session; sent: Sent[]; closed: string[] } {
  const sent: Sent[] = [];
  const closed: string[] = [];
  const session = server.connect({
    send: (text, meta) => void sent.push({ text, meta }),
    close: (reason) => void closed.push(reason),
  });
  return { session, sent, closed };
}

const initialize = (version: string) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "t", version: "1" } },
});

describe("the transport contract", () => {
  const server = new McpServer({ name: "contract", version: "1.0.0" });
  server.tool("echo", {}, (args) => String(args.text));
  server.tool("later", {}, async () => await Promise.resolve("done"));

  test("each message says which request it answers, and an error its code", async () => {
    const { session, sent } = recorder(server);
    assert.equal(session.dispatch(initialize("2025-11-25")), undefined);
    session.dispatch({ jsonrpc: "2.0", method: "notifications/initialized" });
    session.dispatch({
      jsonrpc: "2.0",
      id: "a",
      method: "tools/call",
      params: { name: "echo", arguments: { text: "x" } },
    });
    session.dispatch({ jsonrpc: "2.0", id: 7, method: "nope" });
    session.dispatch({ jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "later" } });
    await waitFor(() => sent.length === 4, "the async tool's answer");
    assert.deepEqual(sent.map((s) => s.meta), [
      { responseTo: 1 },
      { responseTo: "a" },
      { responseTo: 7, error: ErrorCode.MethodNotFound },
      { responseTo: 8 },
    ]);
    assert.deepEqual(JSON.parse(sent[1].text).result.content[0], { type: "text", text: "x" });
    assert.equal(JSON.parse(sent[2].text).error.code, ErrorCode.MethodNotFound);
  });

  test("dispatch() returns a refusal instead of sending it; receive() sends it, marked", () => {
    const { session, sent } = recorder(server);
    session.dispatch(initialize("2025-11-25"));
    sent.length = 0;
    const refusal = session.dispatch([{ jsonrpc: "2.0", id: 2, method: "ping" }]);
    assert.ok(refusal, "a batch under 2025-11-25 is refused");
    assert.equal(refusal.code, ErrorCode.InvalidRequest);
    assert.equal(JSON.parse(refusal.text).id, null);
    assert.equal(sent.length, 0, "nothing was sent for it");
    // A message whose id no request can have is refused too, not answered to that id.
    const odd = session.dispatch({ jsonrpc: "2.0", id: 1.5, method: "ping" });
    assert.ok(odd);
    assert.equal(sent.length, 0);

    session.receive("{not json");
    session.receive('[{"jsonrpc":"2.0","id":3,"method":"ping"}]');
    assert.deepEqual(sent.map((s) => s.meta), [
      { refusal: true, error: ErrorCode.ParseError },
      { refusal: true, error: ErrorCode.InvalidRequest },
    ]);
  });

  test("close(reason) hands the reason to the channel, with no close code", () => {
    const { session, closed } = recorder(server);
    session.close("done for today");
    assert.deepEqual(closed, ["done for today"]);
    assert.equal(session.isClosed, true);
  });
});

describe("Session.close(reason) over the transports", () => {
  let h: ServeHandle;
  const long = "é".repeat(100); // 200 bytes of UTF-8: more than a close frame holds
  before(() => {
    const server = new McpServer({ name: "closer", version: "1.0.0" });
    server.tool("bye", {}, (args, ctx) => {
      queueMicrotask(() => ctx.session.close(String(args.reason)));
      return "bye";
    });
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  test("a reason longer than a close frame holds is cut to 123 bytes, and the socket closes", async () => {
    const c = await RawClient.ready(h.url);
    await c.call("bye", { reason: long });
    const closed = await within(c.closed, "the close frame");
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, "é".repeat(61), "61 two-byte characters are the most that fit in 123 bytes");
  });

  test("a short reason arrives whole", async () => {
    const c = await RawClient.ready(h.url);
    await c.call("bye", { reason: "see you" });
    assert.deepEqual(await within(c.closed, "the close frame"), { code: 1000, reason: "see you" });
  });
});

describe("the HTTP handler's edges", () => {
  test("fetch() rejects, not throws, when allowedOrigins throws", async () => {
    const handler = httpHandler(new McpServer({ name: "o", version: "1" }), {
      allowedOrigins: () => {
        throw new Error("origin check broke");
      },
    });
    let result: Promise<Response> | undefined;
    assert.doesNotThrow(() => {
      result = handler.fetch(new Request("http://127.0.0.1/mcp", { headers: { origin: "http://evil.example" } }));
    });
    await assert.rejects(result!, /origin check broke/);
  });

  test("a Request that holds more than its Content-Length declares is still held to maxMessageBytes", async () => {
    const handler = httpHandler(new McpServer({ name: "b", version: "1" }), { maxMessageBytes: 100 });
    const body = JSON.stringify({ ...initialize("2025-11-25"), pad: "x".repeat(500) });
    const res = await handler.fetch(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": "50", accept: "application/json" },
        body,
      }),
    );
    assert.equal(res.status, 413);
    await handler.close({ timeout: 100 });
  });
});
