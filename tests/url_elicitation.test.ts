// URL-mode elicitation (issue 14): ctx.elicitUrl, UrlElicitationRequiredError (-32042) and
// notifications/elicitation/complete with the official SDK client over WebSocket, Streamable HTTP and
// stdio; the checks of bad input; and the 2026-07-28 form through input_required, raw, over WebSocket and HTTP.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
// The SDK's "./*" export maps types to "*.js.d.ts", which does not exist, so under Deno (its npm resolution,
// no node_modules) these imports are untyped: the callbacks below annotate what the tests rely on.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { WebSocketClientTransport } from "@modelcontextprotocol/sdk/client/websocket.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
  UrlElicitationRequiredError as SdkUrlElicitationRequiredError,
} from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode, type McpServer, type ServeHandle, UrlElicitationRequiredError } from "../mod.ts";
import { build } from "./testdata/url_elicitation_server.ts";
import { type Frame, RawClient, sseMessages, start, within } from "./testdata/helpers.ts";

type Transport = InstanceType<typeof WebSocketClientTransport>;
interface Peer {
  transport: () => Transport;
  close: () => Promise<void>;
}

const FIXTURE = "tests/testdata/url_elicitation_server.ts";
const runArgs = "Bun" in globalThis ? ["run", FIXTURE] : ["run", "-A", FIXTURE];

/** An SDK client whose elicitation handler records each request and answers with `answer.action`. */
function sdkClient(caps: Record<string, unknown> = { elicitation: { url: {} } }) {
  const client = new Client({ name: "url-test", version: "1.0.0" }, { capabilities: caps });
  const asked: Record<string, unknown>[] = [];
  const answer = { action: "accept" };
  client.setRequestHandler(ElicitRequestSchema, (req: { params: Record<string, unknown> }) => {
    asked.push(req.params);
    return { action: answer.action };
  });
  const completions: string[] = [];
  let waiter: ((id: string) => void) | undefined;
  client.setNotificationHandler(
    ElicitationCompleteNotificationSchema,
    (n: { params: { elicitationId: string } }) => {
      completions.push(n.params.elicitationId);
      waiter?.(n.params.elicitationId);
    },
  );
  /** The next completion notification's id (or one already received). */
  const completed = (id: string) =>
    completions.includes(id) ? Promise.resolve(id) : new Promise<string>((resolve) => {
      waiter = (got) => got === id && resolve(got);
    });
  return { client, asked, answer, completions, completed };
}

const RAW_INFO = { name: "raw-http", version: "1" };

/** The JSON-RPC messages of an SSE response, one at a time. */
function sseReader(res: Response): { next(): Promise<Frame> } {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  return {
    async next() {
      for (;;) {
        const i = buf.indexOf("\n\n");
        if (i >= 0) {
          const msgs = sseMessages(buf.slice(0, i + 2));
          buf = buf.slice(i + 2);
          if (msgs.length) return msgs[0];
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buf += value;
      }
    },
  };
}

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };
const text = (r: ToolResult) => r.content[0].text;

const peers: Record<string, () => Peer> = {
  WebSocket: () => {
    const h = start(build());
    return { transport: () => new WebSocketClientTransport(h.url), close: () => h.close({ timeout: 100 }) };
  },
  "Streamable HTTP": () => {
    const h = start(build());
    return {
      transport: () => new StreamableHTTPClientTransport(h.httpUrl) as unknown as Transport,
      close: () => h.close({ timeout: 100 }),
    };
  },
  stdio: () => ({
    transport: () =>
      new StdioClientTransport({ command: process.execPath, args: runArgs, stderr: "ignore" }) as unknown as Transport,
    close: () => Promise.resolve(),
  }),
};

for (const [name, make] of Object.entries(peers)) {
  describe(`URL elicitation with the official SDK client over ${name}`, () => {
    let peer: Peer;
    let c: ReturnType<typeof sdkClient>;
    before(async () => {
      peer = make();
      c = sdkClient();
      await within(c.client.connect(peer.transport()), 10_000, "connect");
    });
    after(async () => {
      await c.client.close();
      await peer.close();
    });

    test("ctx.elicitUrl sends mode url, the message, the URL and an id; the tool gets the user's choice", async () => {
      const r1 = await c.client.callTool({ name: "connect", arguments: { id: "fixed-1" } }) as ToolResult;
      assert.deepEqual(c.asked.at(-1), {
        mode: "url",
        message: "Connect your Example account",
        url: "https://accounts.example.com/connect",
        elicitationId: "fixed-1",
      });
      assert.equal(text(r1), "accept fixed-1");
      c.answer.action = "decline";
      try {
        const r2 = await c.client.callTool({ name: "connect", arguments: {} }) as ToolResult;
        const id = c.asked.at(-1)!.elicitationId as string;
        assert.match(id, /^[0-9a-f-]{36}$/);
        assert.equal(text(r2), `decline ${id}`);
      } finally {
        c.answer.action = "accept";
      }
    });

    test("UrlElicitationRequiredError reaches the client as -32042; completion is notified; the retry succeeds", async () => {
      const user = `ada-${name}`;
      let err: unknown;
      try {
        await c.client.callTool({ name: "files", arguments: { user } });
      } catch (e) {
        err = e;
      }
      assert.ok(
        err instanceof SdkUrlElicitationRequiredError,
        `expected the SDK's UrlElicitationRequiredError: ${err}`,
      );
      const e = err as { code: number; elicitations: Record<string, string>[] };
      assert.equal(e.code, -32042);
      assert.equal(e.elicitations.length, 1);
      const [el] = e.elicitations;
      assert.deepEqual(el, {
        mode: "url",
        elicitationId: el.elicitationId,
        url: `https://accounts.example.com/connect?id=${el.elicitationId}`,
        message: `Connect ${user}'s Example account`,
      });
      const notified = c.completed(el.elicitationId);
      const visit = await c.client.callTool({ name: "visit", arguments: { elicitationId: el.elicitationId } });
      assert.equal(text(visit as ToolResult), "true");
      assert.equal(await within(notified, 5000, "notifications/elicitation/complete"), el.elicitationId);
      const retry = await c.client.callTool({ name: "files", arguments: { user } }) as ToolResult;
      assert.equal(text(retry), `files of ${user}`);
    });

    test("bad input is a clear tool error: no URL, a relative URL, another scheme, an empty id", async () => {
      const before = c.asked.length;
      for (
        const [args, expected] of [
          [{ url: "/connect" }, 'absolute http: or https: URL, not "/connect"'],
          [{ url: "javascript:alert(1)" }, 'not "javascript:alert(1)"'],
          [{ url: "ftp://files.example.com/x" }, "absolute http: or https: URL"],
          [{ id: "" }, "elicitationId must be a non-empty string"],
          [{ message: "" }, "needs a message string"],
        ] as const
      ) {
        const r = await c.client.callTool({ name: "connect", arguments: args }) as ToolResult;
        assert.equal(r.isError, true, JSON.stringify(args));
        assert.ok(text(r).includes(expected), `${JSON.stringify(args)}: ${text(r)}`);
      }
      assert.equal(c.asked.length, before, "nothing reached the client");
    });

    test("a client without elicitation.url: a clear error, and no completion notification", async () => {
      const form = sdkClient({ elicitation: { form: {} } });
      await within(form.client.connect(peer.transport()), 10_000, "connect");
      try {
        const r = await form.client.callTool({ name: "connect", arguments: {} }) as ToolResult;
        assert.equal(r.isError, true);
        assert.match(text(r), /does not support URL elicitation.*'elicitation\.url'/);
        assert.equal(form.asked.length, 0);
        // The error still passes (the handler chose to throw it), but the session has no completion to send.
        const err = await form.client.callTool({ name: "files", arguments: { user: `bob-${name}` } }).catch((
          e: unknown,
        ) => e);
        assert.equal(err.code, -32042);
        const visit = await form.client.callTool({
          name: "visit",
          arguments: { elicitationId: err.elicitations[0].elicitationId },
        });
        assert.equal(text(visit as ToolResult), "false");
        // A round trip after the refusal: nothing was queued for this client.
        await form.client.listTools();
        assert.deepEqual(form.completions, []);
      } finally {
        await form.client.close();
      }
    });
  });
}

describe("URL elicitation: protocol versions and the error class", () => {
  let h: ServeHandle;
  let server: McpServer;
  before(() => (h = start(server = build())));
  after(() => h.close({ timeout: 100 }));

  for (const version of ["2025-06-18", "2025-03-26", "2024-11-05"]) {
    test(`a ${version} session has no URL mode: a clear error, nothing sent`, async () => {
      const c = await RawClient.ready(h.url, { elicitation: { url: {} } }, version);
      try {
        const res = await c.call("connect", {});
        assert.equal(res.result.isError, true);
        assert.match(
          res.result.content[0].text,
          new RegExp(`needs protocol 2025-11-25 or later.*negotiated ${version}`),
        );
        await c.request("ping");
        assert.equal(c.frames.filter((f) => f.method === "elicitation/create").length, 0);
      } finally {
        await c.close();
      }
    });
  }

  test("the 2025-11-25 wire frames: the request, its answer, the completion tied to the call", async () => {
    const c = await RawClient.ready(h.url, { elicitation: { url: {} } });
    try {
      c.send({ jsonrpc: "2.0", id: "call-1", method: "tools/call", params: { name: "connect", arguments: {} } });
      const ask = await c.next((f) => f.method === "elicitation/create");
      assert.deepEqual(Object.keys(ask.params!).sort(), ["elicitationId", "message", "mode", "url"]);
      c.send({ jsonrpc: "2.0", id: ask.id, result: { action: "accept", content: { ignored: true } } });
      const res = await c.next((f) => f.id === "call-1");
      assert.equal(res.result.content[0].text, `accept ${ask.params!.elicitationId}`);
      // An answer with an unknown action is the client's error, said as such.
      c.send({ jsonrpc: "2.0", id: "call-2", method: "tools/call", params: { name: "connect", arguments: {} } });
      const ask2 = await c.next((f) => f.method === "elicitation/create");
      c.send({ jsonrpc: "2.0", id: ask2.id, result: { action: "maybe" } });
      const res2 = await c.next((f) => f.id === "call-2");
      assert.equal(res2.result.isError, true);
      assert.match(res2.result.content[0].text, /unknown action: maybe/);
    } finally {
      await c.close();
    }
  });

  test("UrlElicitationRequiredError checks its pages and fills in ids", () => {
    const e = new UrlElicitationRequiredError([
      { message: "First", url: "https://a.example/x" },
      { message: "Second", url: "http://localhost:8080/y", elicitationId: "given" },
    ]);
    assert.equal(e.code, ErrorCode.UrlElicitationRequired);
    assert.equal(e.code, -32042);
    assert.equal(e.message, "2 URL elicitations are required");
    assert.equal(e.elicitations[1].elicitationId, "given");
    assert.match(e.elicitations[0].elicitationId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(e.toJSON().data, {
      elicitations: [
        { mode: "url", message: "First", url: "https://a.example/x", elicitationId: e.elicitations[0].elicitationId },
        { mode: "url", message: "Second", url: "http://localhost:8080/y", elicitationId: "given" },
      ],
    });
    assert.equal(new UrlElicitationRequiredError({ message: "Only", url: "https://a.example" }).message, "Only");
    assert.throws(() => new UrlElicitationRequiredError([]), /at least one URL elicitation/);
    assert.throws(() => new UrlElicitationRequiredError({ message: "m", url: "not a url" }), /absolute http/);
    assert.throws(
      () => new UrlElicitationRequiredError({ message: 1 as unknown as string, url: "https://a.example" }),
      /needs a message string/,
    );
  });

  test("over HTTP the completion goes on the stream of the call that elicited it, while that call is open", async () => {
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(h.httpUrl, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
        body: JSON.stringify(body),
      });
    const init = await post({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: { elicitation: { url: {} } }, clientInfo: RAW_INFO },
    });
    await init.body?.cancel();
    const session = { "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-11-25" };
    (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session)).body?.cancel();
    // No GET stream is open: a completion sent there would wait for one, not reach this client now.
    const call = await post({
      jsonrpc: "2.0",
      id: "wait-1",
      method: "tools/call",
      params: { name: "connect_and_wait", arguments: { user: "http-wait" } },
    }, session);
    assert.equal(call.headers.get("content-type"), "text/event-stream");
    const events = sseReader(call);
    const ask = await within(events.next(), 5000, "elicitation/create");
    assert.equal(ask.method, "elicitation/create");
    const id = ask.params!.elicitationId as string;
    (await post({ jsonrpc: "2.0", id: ask.id, result: { action: "accept" } }, session)).body?.cancel();
    const visit = await post({
      jsonrpc: "2.0",
      id: "visit-1",
      method: "tools/call",
      params: { name: "visit", arguments: { elicitationId: id } },
    }, session);
    await visit.body?.cancel();
    const complete = await within(events.next(), 5000, "notifications/elicitation/complete");
    assert.deepEqual(complete, {
      jsonrpc: "2.0",
      method: "notifications/elicitation/complete",
      params: { elicitationId: id },
    });
    const result = await within(events.next(), 5000, "the call's result");
    assert.equal(result.id, "wait-1");
    assert.equal(result.result.content[0].text, "connected http-wait");
    (await fetch(h.httpUrl, { method: "DELETE", headers: session })).body?.cancel();
  });

  test("elicitationComplete rejects an empty id", async () => {
    const c = await RawClient.ready(h.url, { elicitation: { url: {} } });
    try {
      const [session] = [...server.sessions].filter((s) => s.clientInfo?.name === "raw");
      assert.ok(session);
      assert.throws(() => session.elicitationComplete(""), /non-empty string/);
      assert.equal(session.elicitationComplete("x"), true);
      const n = await c.notification("notifications/elicitation/complete");
      assert.deepEqual(n.params, { elicitationId: "x" });
    } finally {
      await c.close();
    }
  });
});

// ---------------------------------------------------------------------------
// 2026-07-28: no elicitationId on the wire, no -32042, no completion notification; input_required instead.

const V = "2026-07-28";
const meta = (caps: Record<string, unknown> = { elicitation: { url: {} } }) => ({
  "io.modelcontextprotocol/protocolVersion": V,
  "io.modelcontextprotocol/clientCapabilities": caps,
  "io.modelcontextprotocol/clientInfo": { name: "modern", version: "1" },
});

type Call = (params: Record<string, unknown>) => Promise<Frame>;

function modernSuite(name: string, open: (h: ServeHandle) => Promise<{ call: Call; close: () => Promise<void> }>) {
  describe(`URL elicitation under 2026-07-28 over ${name}`, () => {
    let h: ServeHandle;
    let call: Call;
    let close: () => Promise<void>;
    before(async () => {
      h = start(build());
      ({ call, close } = await open(h));
    });
    after(async () => {
      await close();
      await h.close({ timeout: 100 });
    });

    test("ctx.elicitUrl is an input request of mode url; the retry's answer resumes the handler", async () => {
      const first = await call({ name: "connect", arguments: { id: "m-1" }, _meta: meta() });
      assert.equal(first.result.resultType, "input_required");
      const entries = Object.entries(first.result.inputRequests);
      assert.equal(entries.length, 1);
      const [key, req] = entries[0];
      assert.deepEqual(req, {
        method: "elicitation/create",
        params: { mode: "url", message: "Connect your Example account", url: "https://accounts.example.com/connect" },
      });
      const second = await call({
        name: "connect",
        arguments: { id: "m-1" },
        inputResponses: { [key]: { action: "accept" } },
        requestState: first.result.requestState,
        _meta: meta(),
      });
      assert.equal(second.result.resultType, "complete");
      assert.equal(second.result.content[0].text, "accept m-1");
    });

    test("UrlElicitationRequiredError becomes input_required; the retry after the page was visited completes", async () => {
      const user = `grace-${name}`;
      const first = await call({ name: "files", arguments: { user }, _meta: meta() });
      assert.equal(first.error, undefined, "no -32042 under 2026-07-28");
      assert.equal(first.result.resultType, "input_required");
      const [[key, req]] = Object.entries(first.result.inputRequests) as [string, { params: Record<string, string> }][];
      assert.equal(req.params.mode, "url");
      assert.equal(req.params.message, `Connect ${user}'s Example account`);
      const id = new URL(req.params.url).searchParams.get("id")!;
      assert.equal(key, `url:${id}`);
      assert.equal("elicitationId" in req.params, false);
      // Retried before the visit: asked again.
      const again = await call({
        name: "files",
        arguments: { user },
        inputResponses: { [key]: { action: "accept" } },
        requestState: first.result.requestState,
        _meta: meta(),
      });
      assert.equal(again.result.resultType, "input_required");
      // The page is visited (no session to notify: elicitationComplete says so), then the retry completes.
      const visit = await call({ name: "visit", arguments: { elicitationId: id }, _meta: meta() });
      assert.equal(visit.result.content[0].text, "false");
      const done = await call({
        name: "files",
        arguments: { user },
        inputResponses: { [key]: { action: "accept" } },
        requestState: first.result.requestState,
        _meta: meta(),
      });
      assert.equal(done.result.resultType, "complete");
      assert.equal(done.result.content[0].text, `files of ${user}`);
    });

    test("without elicitation.url: MissingClientCapability naming { elicitation: { url: {} } }", async () => {
      for (const name of ["connect", "files"]) {
        const res = await call({ name, arguments: { user: "x" }, _meta: meta({ elicitation: { form: {} } }) });
        assert.equal(res.error?.code, ErrorCode.MissingClientCapability, name);
        assert.deepEqual(res.error?.data, { requiredCapabilities: { elicitation: { url: {} } } });
      }
    });

    test("a bad URL is a tool error before anything is asked", async () => {
      const res = await call({ name: "connect", arguments: { url: "mailto:a@b.c" }, _meta: meta() });
      assert.equal(res.result.resultType, "complete");
      assert.equal(res.result.isError, true);
      assert.match(res.result.content[0].text, /absolute http: or https: URL/);
    });
  });
}

modernSuite("WebSocket", async (h) => {
  const c = await RawClient.connect(h.url);
  return { call: (params) => c.request("tools/call", params), close: () => c.close() };
});

modernSuite("Streamable HTTP", (h) => {
  let id = 0;
  const call: Call = async (params) => {
    const res = await fetch(h.httpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": V,
        "mcp-method": "tools/call",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method: "tools/call", params }),
    });
    const body = await res.text();
    const msgs = res.headers.get("content-type")?.startsWith("text/event-stream")
      ? sseMessages(body)
      : [JSON.parse(body)];
    return msgs.find((m) => m.id !== undefined && m.method === undefined)!;
  };
  return Promise.resolve({ call, close: () => Promise.resolve() });
});
