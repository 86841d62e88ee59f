// The MCP 2025-11-25 server surface over a real WebSocket: resources, prompts, completion,
// logging, progress, cancellation, server -> client requests, list_changed, pagination,
// tool metadata and content.
//
// Well-formed traffic goes through the library's own client (`connect()`); a test keeps the raw
// frame client (RawClient) only where its point is the exact wire frames or something the client
// deliberately hides, and says why where it does.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import {
  type CallToolResult,
  type ContentBlock,
  type CreateMessageResult,
  ErrorCode,
  McpError,
  McpServer,
  type McpServerOptions,
  type PromptMessage,
  type RequestId,
  type ServeHandle,
  type Session,
} from "../mod.ts";
import {
  type CompleteRef,
  connect,
  type ConnectOptions,
  type ElicitParams,
  type McpClient,
  McpClientError,
  type Page,
  type Progress,
} from "../client.ts";
import { type Deferred, deferred, type Frame, RawClient, start, within } from "./testdata/helpers.ts";

// ---------------------------------------------------------------------------
// Local helpers

function newServer(options: Partial<McpServerOptions> = {}): McpServer {
  return new McpServer({ name: "surface", version: "1.0.0", ...options });
}

/** Connects the library's client and initializes with a chosen clientInfo name. */
function open(url: URL, name: string, options: ConnectOptions = {}): Promise<McpClient> {
  return connect(url, { clientInfo: { name, version: "1" }, timeout: 10_000, ...options });
}

/** Expects `p` to reject with an McpClientError (a JSON-RPC error answer) and returns it. */
async function rejection(p: Promise<unknown>, what: string): Promise<McpClientError> {
  let value: unknown;
  try {
    value = await within(p, what);
  } catch (e) {
    assert.ok(e instanceof McpClientError, `${what}: expected an McpClientError, got ${e}`);
    return e;
  }
  assert.fail(`${what}: expected an error answer, got ${JSON.stringify(value)}`);
}

/** The text of a tool result's first content block. */
function textOf(res: CallToolResult): string {
  const block = res.content[0] as { type: string; text?: string };
  assert.equal(block.type, "text");
  return block.text!;
}

interface Note {
  method: string;
  params: Record<string, unknown>;
}

/** Queues the notifications of `methods` that a client receives, for tests to wait for and inspect. */
class Inbox {
  notes: Note[] = [];
  #waiters: { match: (n: Note) => boolean; resolve: (n: Note) => void }[] = [];
  #off: (() => void)[];

  constructor(client: McpClient, methods: string[]) {
    this.#off = methods.map((method) => client.on(method, (params) => this.#push({ method, params })));
  }

  #push(n: Note): void {
    const i = this.#waiters.findIndex((w) => w.match(n));
    if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(n);
    else this.notes.push(n);
  }

  /** Waits for the first notification (queued or future) of `method`; resolves with its params. */
  async next(method: string, timeout = 5000): Promise<Record<string, unknown>> {
    const match = (n: Note) => n.method === method;
    const i = this.notes.findIndex(match);
    if (i >= 0) return this.notes.splice(i, 1)[0].params;
    const d = deferred<Note>();
    const w = { match, resolve: d.resolve };
    this.#waiters.push(w);
    try {
      return (await within(d.promise, `notification ${method}`, timeout)).params;
    } finally {
      const j = this.#waiters.indexOf(w);
      if (j >= 0) this.#waiters.splice(j, 1);
    }
  }

  /** Removes and returns the params of every queued notification that matches. */
  take(match: string | ((n: Note) => boolean)): Record<string, unknown>[] {
    const m = typeof match === "string" ? (n: Note) => n.method === match : match;
    const out = this.notes.filter(m).map((n) => n.params);
    this.notes = this.notes.filter((n) => !m(n));
    return out;
  }

  close(): void {
    for (const off of this.#off) off();
  }
}

const isListChanged = (n: Note) => /list_changed$/.test(n.method);

/**
 * A ping round trip, then asserts that no queued notification matches: frames on one socket are
 * ordered, so anything the server sent before answering the ping has reached the inbox by now.
 */
async function assertQuiet(
  client: McpClient,
  inbox: Inbox,
  match: string | ((n: Note) => boolean),
  what: string,
): Promise<void> {
  assert.deepEqual(await client.request("ping"), {});
  const m = typeof match === "string" ? (n: Note) => n.method === match : match;
  assert.deepEqual(inbox.notes.filter(m), [], what);
}

// -- raw frames, for the tests that need them -------------------------------

/** Removes and returns every queued frame that matches. */
function take(c: RawClient, match: (f: Frame) => boolean): Frame[] {
  const out = c.frames.filter(match);
  c.frames = c.frames.filter((f) => !match(f));
  return out;
}

const isNote = (method: string) => (f: Frame) => f.method === method && f.id === undefined;

/** The raw-frame form of assertQuiet. */
async function assertNothing(c: RawClient, match: (f: Frame) => boolean, what: string): Promise<void> {
  const pong = await c.request("ping");
  assert.deepEqual(pong.result, {});
  assert.deepEqual(c.frames.filter(match), [], what);
}

/** Connects a raw client and initializes with a chosen clientInfo name; returns it and the initialize result. */
async function readyAs(
  url: URL,
  name: string,
  capabilities: Record<string, unknown> = {},
  version = "2025-11-25",
  // deno-lint-ignore no-explicit-any
): Promise<{ c: RawClient; init: any }> {
  const c = await RawClient.connect(url);
  const res = await c.request("initialize", {
    protocolVersion: version,
    capabilities,
    clientInfo: { name, version: "1" },
  });
  assert.equal(res.error, undefined, `initialize failed: ${JSON.stringify(res.error)}`);
  c.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  return { c, init: res.result };
}

function sessionNamed(server: McpServer, name: string): Session {
  const s = [...server.sessions].find((x) => x.clientInfo?.name === name);
  assert.ok(s, `no session for client ${name}`);
  return s;
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// ---------------------------------------------------------------------------

describe("Resources", () => {
  let h: ServeHandle;
  let server: McpServer;
  const templateCalls: { uri: string; vars: Record<string, string | string[]> }[] = [];
  const smallBytes = new Uint8Array([0, 1, 2, 127, 128, 250, 255]);
  const bigBytes = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);

  before(() => {
    server = newServer();
    server.resource("mem://text", {
      name: "text",
      title: "Text",
      description: "Some text",
      mimeType: "text/plain",
      size: 5,
      annotations: { audience: ["user"], priority: 0.5 },
    }, (uri) => `hello from ${uri}`);
    server.resource("mem://bytes", { mimeType: "application/octet-stream" }, () => smallBytes);
    server.resource("mem://big", {}, () => bigBytes);
    server.resource("mem://object", {}, () => ({ text: "# object", mimeType: "text/markdown" }));
    server.resource("mem://array", {}, () => [
      { uri: "mem://array/a", text: "A" },
      { uri: "mem://array/b", mimeType: "application/octet-stream", blob: "AAEC" },
    ]);
    server.resource("mem://full", {}, () => ({
      contents: [{ uri: "mem://full", text: "full", _meta: { "example.com/k": 1 } }],
      _meta: { "example.com/r": true },
    }));
    server.resourceTemplate(
      "users://{id}/posts/{post}",
      { name: "posts", title: "Posts", mimeType: "text/plain" },
      (uri, vars) => {
        templateCalls.push({ uri, vars });
        return `post ${vars.post} of ${vars.id}`;
      },
    );
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  test("resources/list and resources/templates/list show the registered metadata", async () => {
    const c = await open(h.url, "lister");
    assert.deepEqual(c.serverCapabilities.resources, { subscribe: true, listChanged: true });
    const list = await c.listResources();
    const byUri = Object.fromEntries(list.resources.map((r) => [r.uri, r]));
    assert.deepEqual(Object.keys(byUri).sort(), [
      "mem://array",
      "mem://big",
      "mem://bytes",
      "mem://full",
      "mem://object",
      "mem://text",
    ]);
    assert.deepEqual(byUri["mem://text"], {
      uri: "mem://text",
      name: "text",
      title: "Text",
      description: "Some text",
      mimeType: "text/plain",
      size: 5,
      annotations: { audience: ["user"], priority: 0.5 },
    });
    assert.deepEqual(byUri["mem://bytes"], {
      uri: "mem://bytes",
      name: "mem://bytes",
      mimeType: "application/octet-stream",
    });
    assert.equal(list.nextCursor, undefined);
    const templates = await c.listResourceTemplates();
    assert.deepEqual(templates.resourceTemplates, [
      { uriTemplate: "users://{id}/posts/{post}", name: "posts", title: "Posts", mimeType: "text/plain" },
    ]);
    await c.close();
  });

  test("resources/read returns text contents with the resource's mimeType", async () => {
    const c = await open(h.url, "text-reader");
    const res = await c.readResource("mem://text");
    assert.deepEqual(res, {
      contents: [{ uri: "mem://text", mimeType: "text/plain", text: "hello from mem://text" }],
    });
    await c.close();
  });

  test("a Uint8Array becomes base64 blob contents that decode to the same bytes", async () => {
    const c = await open(h.url, "blob-reader");
    const small = await c.readResource("mem://bytes");
    assert.equal(small.contents.length, 1);
    const [one] = small.contents as unknown as Record<string, string>[];
    assert.equal(one.uri, "mem://bytes");
    assert.equal(one.mimeType, "application/octet-stream");
    assert.equal(one.text, undefined);
    assert.equal(typeof one.blob, "string");
    assert.deepEqual(decodeBase64(one.blob), smallBytes);

    const big = await c.readResource("mem://big");
    const [b] = big.contents as unknown as Record<string, string>[];
    assert.equal(b.uri, "mem://big");
    assert.equal("mimeType" in b, false, "no mimeType was registered");
    assert.deepEqual(decodeBase64(b.blob), bigBytes);
    await c.close();
  });

  test("readers may return a contents object, an array, or a full { contents }", async () => {
    const c = await open(h.url, "shape-reader");
    const obj = await c.readResource("mem://object");
    assert.deepEqual(obj, { contents: [{ uri: "mem://object", mimeType: "text/markdown", text: "# object" }] });
    const arr = await c.readResource("mem://array");
    assert.deepEqual(arr, {
      contents: [
        { uri: "mem://array/a", text: "A" },
        { uri: "mem://array/b", mimeType: "application/octet-stream", blob: "AAEC" },
      ],
    });
    const full = await c.readResource("mem://full");
    assert.deepEqual(full, {
      contents: [{ uri: "mem://full", text: "full", _meta: { "example.com/k": 1 } }],
      _meta: { "example.com/r": true },
    });
    await c.close();
  });

  test("a resource template's reader gets the URI and the matched variables", async () => {
    const c = await open(h.url, "template-reader");
    templateCalls.length = 0;
    const res = await c.readResource("users://ada/posts/42");
    assert.deepEqual(res, {
      contents: [{ uri: "users://ada/posts/42", mimeType: "text/plain", text: "post 42 of ada" }],
    });
    assert.deepEqual(templateCalls, [{ uri: "users://ada/posts/42", vars: { id: "ada", post: "42" } }]);
    await c.close();
  });

  test("an unknown URI gives -32002 with data.uri", async () => {
    const c = await open(h.url, "missing-reader");
    const err = await rejection(c.readResource("mem://nope"), "read mem://nope");
    assert.equal(err.code, -32002);
    assert.equal(err.code, ErrorCode.ResourceNotFound);
    assert.deepEqual(err.data, { uri: "mem://nope" });
    assert.equal(err.method, "resources/read");
    // A URI the template does not match is unknown too.
    const partial = await rejection(c.readResource("users://ada"), "read users://ada");
    assert.equal(partial.code, -32002);
    assert.deepEqual(partial.data, { uri: "users://ada" });
    await c.close();
  });

  test("resourceUpdated notifies only the sessions subscribed to that URI, and not after unsubscribe", async () => {
    const UPDATED = "notifications/resources/updated";
    const a = await open(h.url, "sub-a");
    const b = await open(h.url, "sub-b");
    const na = new Inbox(a, [UPDATED]);
    const nb = new Inbox(b, [UPDATED]);
    // request() rather than subscribe(), to see the (empty) results themselves.
    assert.deepEqual(await a.request("resources/subscribe", { uri: "mem://text" }), {});
    assert.deepEqual(await b.request("resources/subscribe", { uri: "mem://bytes" }), {});

    server.resourceUpdated("mem://text");
    assert.deepEqual(await na.next(UPDATED), { uri: "mem://text" });
    await assertQuiet(b, nb, UPDATED, "b did not subscribe to mem://text");
    await assertQuiet(a, na, UPDATED, "a got exactly one notification");

    server.resourceUpdated("mem://bytes");
    assert.deepEqual(await nb.next(UPDATED), { uri: "mem://bytes" });
    await assertQuiet(a, na, UPDATED, "a did not subscribe to mem://bytes");

    assert.deepEqual(await a.request("resources/unsubscribe", { uri: "mem://text" }), {});
    server.resourceUpdated("mem://text");
    await assertQuiet(a, na, UPDATED, "a unsubscribed from mem://text");
    await assertQuiet(b, nb, UPDATED, "b never subscribed to mem://text");
    await a.close();
    await b.close();
  });
});

// ---------------------------------------------------------------------------

describe("Prompts", () => {
  let h: ServeHandle;
  let c: McpClient;
  const rich: PromptMessage[] = [
    { role: "user", content: { type: "text", text: "look", annotations: { priority: 1 }, _meta: { k: "v" } } },
    { role: "assistant", content: { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" } },
    { role: "user", content: { type: "audio", data: "UklGRg==", mimeType: "audio/wav" } },
    {
      role: "assistant",
      content: {
        type: "resource_link",
        uri: "file:///a.txt",
        name: "a.txt",
        title: "A",
        description: "a file",
        mimeType: "text/plain",
      },
    },
    {
      role: "user",
      content: { type: "resource", resource: { uri: "mem://doc", mimeType: "text/plain", text: "embedded" } },
    },
    { role: "user", content: { type: "resource", resource: { uri: "mem://bin", blob: "AAEC" } } },
  ];

  before(async () => {
    const server = newServer();
    server.prompt("greet", {
      title: "Greeting",
      description: "Greets someone",
      args: z.object({
        name: z.string().describe("Who to greet"),
        style: z.string().optional().describe("Tone of voice"),
      }),
    }, ({ name, style }) => `Hello, ${name}${style ? ` (${style})` : ""}!`);
    server.prompt("rich", { description: "Every content type" }, () => rich);
    h = start(server);
    c = await open(h.url, "prompts");
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  test("prompts/list derives arguments (name, description, required) from the zod object", async () => {
    const res = await c.listPrompts();
    const greet = res.prompts.find((p) => p.name === "greet");
    assert.deepEqual(greet, {
      name: "greet",
      title: "Greeting",
      description: "Greets someone",
      arguments: [
        { name: "name", description: "Who to greet", required: true },
        { name: "style", description: "Tone of voice", required: false },
      ],
    });
    const richPrompt = res.prompts.find((p) => p.name === "rich");
    assert.deepEqual(richPrompt, { name: "rich", description: "Every content type" });
  });

  test("a handler returning a string becomes one user text message", async () => {
    const res = await c.getPrompt("greet", { name: "Ada", style: "warm" });
    assert.deepEqual(res.messages, [{ role: "user", content: { type: "text", text: "Hello, Ada (warm)!" } }]);
    const noStyle = await c.getPrompt("greet", { name: "Alan" });
    assert.deepEqual(noStyle.messages, [{ role: "user", content: { type: "text", text: "Hello, Alan!" } }]);
  });

  test("a missing required argument gives -32602 naming it", async () => {
    const err = await rejection(c.getPrompt("greet", { style: "warm" }), "greet without name");
    assert.equal(err.code, ErrorCode.InvalidParams);
    assert.match(err.message, /name/);
    const none = await rejection(c.getPrompt("greet"), "greet without arguments");
    assert.equal(none.code, ErrorCode.InvalidParams);
  });

  test("an argument of the wrong type gives -32602", async () => {
    // Through request(): getPrompt's types rightly forbid a number argument.
    const err = await rejection(
      c.request("prompts/get", { name: "greet", arguments: { name: 5 } }),
      "greet with a number",
    );
    assert.equal(err.code, ErrorCode.InvalidParams);
  });

  test("an unknown prompt gives -32602", async () => {
    const err = await rejection(c.getPrompt("nope", {}), "unknown prompt");
    assert.equal(err.code, ErrorCode.InvalidParams);
    assert.match(err.message, /nope/);
  });

  test("text, image, audio, resource_link and embedded resource messages pass through unchanged", async () => {
    const res = await c.getPrompt("rich");
    assert.deepEqual(res.messages, rich);
  });
});

// ---------------------------------------------------------------------------

describe("Completion", () => {
  let h: ServeHandle;
  let c: McpClient;
  const seenContexts: Record<string, string>[] = [];
  const many = Array.from({ length: 150 }, (_, i) => `v${i}`);

  before(async () => {
    const server = newServer();
    server.prompt("code", {
      args: z.object({
        language: z.string(),
        framework: z.string().optional(),
        many: z.string().optional(),
        free: z.string().optional(),
      }),
      complete: {
        language: (v) => ["typescript", "tsx", "python"].filter((x) => x.startsWith(v)),
        framework: (v, { arguments: args }) => {
          seenContexts.push(args);
          const all = args.language === "python" ? ["django", "flask"] : ["react", "remix"];
          return all.filter((x) => x.startsWith(v));
        },
        many: async () => {
          await Promise.resolve();
          return many;
        },
      },
    }, () => "x");
    server.prompt("plain", { args: z.object({ a: z.string() }) }, () => "x");
    server.resourceTemplate("repo://{owner}/{name}", {
      complete: {
        owner: (v) => ["ada", "alan", "grace"].filter((x) => x.startsWith(v)),
        name: (v, { arguments: args }) => [`${args.owner ?? "nobody"}-${v}1`, `${args.owner ?? "nobody"}-${v}2`],
      },
    }, () => "repo");
    h = start(server);
    c = await open(h.url, "completer");
    assert.deepEqual(c.serverCapabilities.completions, {});
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  const complete = (ref: CompleteRef, name: string, value: string, context?: Record<string, string>) =>
    c.complete(ref, { name, value }, context ? { arguments: context } : undefined);

  test("completes a prompt argument", async () => {
    const res = await complete({ type: "ref/prompt", name: "code" }, "language", "t");
    assert.deepEqual(res.values, ["typescript", "tsx"]);
    assert.notEqual(res.hasMore, true);
  });

  test("context.arguments reaches the completer", async () => {
    seenContexts.length = 0;
    const py = await complete({ type: "ref/prompt", name: "code" }, "framework", "", { language: "python" });
    assert.deepEqual(py.values, ["django", "flask"]);
    const ts = await complete({ type: "ref/prompt", name: "code" }, "framework", "re", { language: "typescript" });
    assert.deepEqual(ts.values, ["react", "remix"]);
    assert.deepEqual(seenContexts, [{ language: "python" }, { language: "typescript" }]);
  });

  test("completes a resource-template variable, with context", async () => {
    const owner = await complete({ type: "ref/resource", uri: "repo://{owner}/{name}" }, "owner", "a");
    assert.deepEqual(owner.values, ["ada", "alan"]);
    const name = await complete({ type: "ref/resource", uri: "repo://{owner}/{name}" }, "name", "x", {
      owner: "grace",
    });
    assert.deepEqual(name.values, ["grace-x1", "grace-x2"]);
  });

  test("150 candidates: the first 100 values, total 150, hasMore true", async () => {
    const res = await complete({ type: "ref/prompt", name: "code" }, "many", "");
    assert.deepEqual(res, { values: many.slice(0, 100), total: 150, hasMore: true });
  });

  test("an unknown ref gives -32602", async () => {
    const prompt = await rejection(complete({ type: "ref/prompt", name: "nope" }, "language", ""), "ref/prompt nope");
    assert.equal(prompt.code, ErrorCode.InvalidParams);
    const tpl = await rejection(complete({ type: "ref/resource", uri: "nope://{x}" }, "x", ""), "ref/resource nope");
    assert.equal(tpl.code, ErrorCode.InvalidParams);
    // Through request(): complete()'s types rightly forbid an unknown ref type.
    const kind = await rejection(
      c.request("completion/complete", {
        ref: { type: "ref/other", name: "code" },
        argument: { name: "language", value: "" },
      }),
      "ref/other",
    );
    assert.equal(kind.code, ErrorCode.InvalidParams);
  });

  test("no completer for the argument gives empty values", async () => {
    const free = await complete({ type: "ref/prompt", name: "code" }, "free", "abc");
    assert.deepEqual(free.values, []);
    assert.notEqual(free.hasMore, true);
    const plain = await complete({ type: "ref/prompt", name: "plain" }, "a", "");
    assert.deepEqual(plain.values, []);
  });
});

// ---------------------------------------------------------------------------

describe("Logging", () => {
  let h: ServeHandle;
  let server: McpServer;
  const LEVELS = ["debug", "info", "warning", "error"] as const;
  const MESSAGE = "notifications/message";
  const messages = (box: Inbox) => box.take(MESSAGE);

  before(() => {
    server = newServer();
    server.tool("chatty", {}, async (_a, ctx) => {
      for (const level of LEVELS) {
        ctx.log(level, `tool-${level}`, "tool");
        await Promise.resolve();
      }
      return "done";
    });
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  test("two sessions with different levels get different subsets of server.log", async () => {
    const a = await open(h.url, "log-a");
    const b = await open(h.url, "log-b");
    const na = new Inbox(a, [MESSAGE]);
    const nb = new Inbox(b, [MESSAGE]);
    // request() rather than setLogLevel(), to see the (empty) results themselves.
    assert.deepEqual(await a.request("logging/setLevel", { level: "warning" }), {});
    assert.deepEqual(await b.request("logging/setLevel", { level: "debug" }), {});
    for (const level of LEVELS) server.log(level, { n: level });
    server.log("error", "with logger", "db");
    await a.ping();
    await b.ping();
    assert.deepEqual(messages(na), [
      { level: "warning", data: { n: "warning" } },
      { level: "error", data: { n: "error" } },
      { level: "error", logger: "db", data: "with logger" },
    ]);
    assert.deepEqual(messages(nb), [
      { level: "debug", data: { n: "debug" } },
      { level: "info", data: { n: "info" } },
      { level: "warning", data: { n: "warning" } },
      { level: "error", data: { n: "error" } },
      { level: "error", logger: "db", data: "with logger" },
    ]);
    await a.close();
    await b.close();
  });

  test("ctx.log in a tool follows the calling session's level and reaches only that session", async () => {
    const a = await open(h.url, "tool-log-a");
    const b = await open(h.url, "tool-log-b");
    const na = new Inbox(a, [MESSAGE]);
    const nb = new Inbox(b, [MESSAGE]);
    await a.setLogLevel("warning");
    await b.setLogLevel("debug");

    // The logs go out before the result on the same socket, so they are queued when the call resolves.
    const ra = await a.callTool("chatty");
    assert.deepEqual(ra.content, [{ type: "text", text: "done" }]);
    assert.deepEqual(messages(na), [
      { level: "warning", logger: "tool", data: "tool-warning" },
      { level: "error", logger: "tool", data: "tool-error" },
    ]);
    const rb = await b.callTool("chatty");
    assert.deepEqual(rb.content, [{ type: "text", text: "done" }]);
    assert.deepEqual(messages(nb), LEVELS.map((level) => ({ level, logger: "tool", data: `tool-${level}` })));
    await assertQuiet(a, na, MESSAGE, "b's tool logs went to a");
    await a.close();
    await b.close();
  });

  test("an invalid level gives -32602", async () => {
    const c = await open(h.url, "bad-level");
    // Through request(): setLogLevel's types rightly forbid these.
    for (const params of [{ level: "verbose" }, { level: 3 }, {}]) {
      const err = await rejection(c.request("logging/setLevel", params), JSON.stringify(params));
      assert.equal(err.code, ErrorCode.InvalidParams, JSON.stringify(params));
    }
    await c.close();
  });

  test("the default level is info: debug is not sent before setLevel", async () => {
    const c = await open(h.url, "default-level");
    const box = new Inbox(c, [MESSAGE]);
    server.log("debug", "hidden");
    server.log("info", "shown");
    await c.ping();
    assert.deepEqual(messages(box), [{ level: "info", data: "shown" }]);
    const res = await c.callTool("chatty");
    assert.equal(res.isError, undefined);
    assert.deepEqual(messages(box).map((m) => m.level), ["info", "warning", "error"]);
    await c.setLogLevel("debug");
    server.log("debug", "now shown");
    await c.ping();
    assert.deepEqual(messages(box), [{ level: "debug", data: "now shown" }]);
    await c.close();
  });
});

// ---------------------------------------------------------------------------

describe("Progress", () => {
  let h: ServeHandle;
  let raw: RawClient;
  let c: McpClient;
  let box: Inbox;
  const PROGRESS = "notifications/progress";

  before(async () => {
    const server = newServer();
    server.tool("work", { input: z.object({ steps: z.number() }) }, async ({ steps }, ctx) => {
      for (let i = 1; i <= steps; i++) {
        ctx.progress(i, steps, `step ${i}`);
        await new Promise((r) => setTimeout(r, 1));
      }
      return `did ${steps}`;
    });
    server.tool("bare", {}, async (_a, ctx) => {
      ctx.progress(0.5);
      await Promise.resolve();
      ctx.progress(1);
      return "bare";
    });
    server.tool("backwards", {}, async (_a, ctx) => {
      ctx.progress(2, 10);
      await Promise.resolve();
      ctx.progress(2, 10);
      return "not reached";
    });
    h = start(server);
    raw = (await readyAs(h.url, "progress-raw")).c;
    c = await open(h.url, "progress");
    box = new Inbox(c, [PROGRESS]);
  });
  after(async () => {
    box.close();
    await c.close();
    await raw.close();
    await h.close({ timeout: 100 });
  });

  for (const token of ["tok-1", 0] as const) {
    test(`${typeof token} progress token: notifications in order, before the result`, async () => {
      // Raw frames: the point is the wire order of progress frames vs the response, and a
      // token of our choosing (string, or the number 0) on a request id of our choosing.
      const id = `work-${typeof token}`;
      const res = await raw.request("tools/call", {
        name: "work",
        arguments: { steps: 3 },
        _meta: { progressToken: token },
      }, id);
      assert.deepEqual(res.result.content, [{ type: "text", text: "did 3" }]);
      const progress = take(raw, isNote(PROGRESS)).map((f) => f.params);
      assert.deepEqual(
        progress,
        [1, 2, 3].map((i) => ({ progressToken: token, progress: i, total: 3, message: `step ${i}` })),
      );
      // Wire order: every progress frame came before the response.
      const parsed = raw.raw.map((t) => JSON.parse(t) as Frame);
      const responseAt = parsed.findIndex((f) => f.id === id && f.method === undefined);
      const progressAt = parsed
        .map((f, i) => (f.method === PROGRESS && f.params?.progressToken === token ? i : -1))
        .filter((i) => i >= 0);
      assert.equal(progressAt.length, 3);
      assert.ok(progressAt.every((i) => i < responseAt), `progress at ${progressAt}, response at ${responseAt}`);
    });
  }

  test("progress without total or message carries only token and progress", async () => {
    const res = await c.callTool("bare", {}, { meta: { progressToken: "bare-1" } });
    assert.deepEqual(res.content, [{ type: "text", text: "bare" }]);
    assert.deepEqual(box.take(PROGRESS), [
      { progressToken: "bare-1", progress: 0.5 },
      { progressToken: "bare-1", progress: 1 },
    ]);
    // The same through onProgress, with the client's own token.
    const seen: Progress[] = [];
    const again = await c.callTool("bare", {}, { onProgress: (p) => seen.push(p) });
    assert.deepEqual(again.content, [{ type: "text", text: "bare" }]);
    assert.deepEqual(seen, [{ progress: 0.5 }, { progress: 1 }]);
    const wire = box.take(PROGRESS);
    assert.equal(wire.length, 2);
    for (const params of wire) assert.deepEqual(Object.keys(params).sort(), ["progress", "progressToken"]);
  });

  test("without a progress token nothing is sent", async () => {
    box.take(PROGRESS);
    const res = await c.callTool("work", { steps: 3 });
    assert.deepEqual(res.content, [{ type: "text", text: "did 3" }]);
    // The progress calls ran before the result was sent, so any frame they produced is queued by now.
    assert.deepEqual(box.take(PROGRESS), []);
    const other = await c.callTool("work", { steps: 2 }, { meta: { other: "meta" } });
    assert.equal(textOf(other), "did 2");
    assert.deepEqual(box.take(PROGRESS), []);
  });

  test("a non-increasing progress value throws; the tool result says so", async () => {
    box.take(PROGRESS);
    const res = await c.callTool("backwards", {}, { meta: { progressToken: "back" } });
    assert.equal(res.isError, true);
    assert.match(textOf(res), /progress must increase/);
    assert.deepEqual(box.take(PROGRESS), [{ progressToken: "back", progress: 2, total: 10 }]);
  });
});

// ---------------------------------------------------------------------------

describe("Cancellation", () => {
  let h: ServeHandle;
  let server: McpServer;
  const started = new Map<string, Deferred<Session>>();
  const aborted = new Map<string, Deferred<{ aborted: boolean; reason: unknown }>>();
  const slot = <T>(m: Map<string, Deferred<T>>, key: string) => {
    if (!m.has(key)) m.set(key, deferred<T>());
    return m.get(key)!;
  };

  before(() => {
    server = newServer();
    server.tool("hold", { input: z.object({ key: z.string() }) }, ({ key }, ctx) =>
      new Promise<string>((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          slot(aborted, key).resolve({ aborted: ctx.signal.aborted, reason: ctx.signal.reason });
          resolve(`finished ${key} after abort`); // a result the server must not send
        }, { once: true });
        slot(started, key).resolve(ctx.session);
      }));
    server.tool("quick", {}, () => "quick");
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  test("notifications/cancelled aborts ctx.signal and no response is ever sent", async () => {
    // Raw frames: the point is that no response frame for the cancelled id ever arrives, and
    // the client drops late answers to requests it cancelled, so only raw frames show it.
    const { c } = await readyAs(h.url, "canceller");
    c.send({ jsonrpc: "2.0", id: "hold-1", method: "tools/call", params: { name: "hold", arguments: { key: "k1" } } });
    const session = await within(slot(started, "k1").promise, "handler start");
    assert.equal(session.inFlight, 1);
    c.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "hold-1", reason: "user stop" } });
    const seen = await within(slot(aborted, "k1").promise, "abort of k1");
    assert.equal(seen.aborted, true);
    // Round trips after the cancellation: a response to hold-1 would have arrived before these.
    assert.deepEqual((await c.request("ping")).result, {});
    assert.equal((await c.call("quick")).result.content[0].text, "quick");
    assert.deepEqual((await c.request("ping")).result, {});
    assert.deepEqual(c.frames.filter((f) => f.id === "hold-1"), [], "a cancelled request gets no response");
    assert.ok(!c.raw.some((t) => (JSON.parse(t) as Frame).id === "hold-1"));
    assert.equal(session.inFlight, 0);
    await c.close();
  });

  test("closing the socket aborts every in-flight handler and removes the session", async () => {
    const c = await open(h.url, "closer");
    const calls = ["x", "y"].map((key) => c.callTool("hold", { key }).then(() => "answered", (e: unknown) => e));
    const sx = await within(slot(started, "x").promise, "start x");
    const sy = await within(slot(started, "y").promise, "start y");
    assert.equal(sx, sy);
    assert.ok(server.sessions.has(sx));
    assert.equal(sx.inFlight, 2);
    await c.close();
    const [ax, ay] = await within(Promise.all([slot(aborted, "x").promise, slot(aborted, "y").promise]), "aborts");
    assert.equal(ax.aborted, true);
    assert.equal(ay.aborted, true);
    assert.equal(server.sessions.has(sx), false);
    assert.equal(sx.isClosed, true);
    // Both calls failed on the client's side with a closed connection; neither was answered.
    for (const outcome of await within(Promise.all(calls), "the calls settle")) {
      assert.ok(outcome instanceof McpClientError, String(outcome));
      assert.equal(outcome.code, ErrorCode.ConnectionClosed);
    }
  });
});

// ---------------------------------------------------------------------------

describe("Server to client requests", () => {
  let h: ServeHandle;
  let server: McpServer;
  const rootsChanged: Session[] = [];
  let rootsWaiter: Deferred<void> | undefined;
  const Person = z.object({
    name: z.string().describe("Your name"),
    age: z.number().int().min(0).max(150),
    admin: z.boolean(),
    color: z.enum(["red", "green"]),
    nickname: z.string().optional(),
  });
  const samplingParams = (text: string) => ({
    messages: [{ role: "user" as const, content: { type: "text", text } }],
    maxTokens: 50,
  });

  before(() => {
    server = newServer({
      onRootsListChanged: (s) => {
        rootsChanged.push(s);
        rootsWaiter?.resolve();
      },
    });
    server.tool("sample", { input: z.object({ q: z.string() }) }, async ({ q }, ctx) => {
      const r = await ctx.sample(samplingParams(q));
      return JSON.stringify(r);
    });
    server.tool("sample_two", {}, async (_a, ctx) => {
      const [first, second] = await Promise.all([
        ctx.sample(samplingParams("first")),
        ctx.sample(samplingParams("second")),
      ]);
      return JSON.stringify([first.content, second.content]);
    });
    server.tool("sample_quick", {}, async (_a, ctx) => {
      await ctx.sample(samplingParams("quick"), { timeout: 150 });
      return "answered";
    });
    server.tool("ask", {}, async (_a, ctx) => {
      const r = await ctx.elicit("Who are you?", Person);
      if (r.action === "accept") {
        const nextAge: number = r.content.age + 1; // typed: no cast needed
        return JSON.stringify({ content: r.content, nextAge, ageType: typeof r.content.age });
      }
      return JSON.stringify(r);
    });
    server.tool("roots", {}, async (_a, ctx) => JSON.stringify(await ctx.listRoots()));
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  // Every client below declares all three capabilities, whichever handler it gives.
  const ALL = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } };
  const requestFor = (c: RawClient, method: string) => c.next((f) => f.method === method && f.id !== undefined);
  const reply = (c: RawClient, id: Frame["id"], result: Record<string, unknown>) =>
    c.send({ jsonrpc: "2.0", id, result });

  test("ctx.sample: the client reads the request and answers by id", async () => {
    const seen: { params: unknown; id: RequestId }[] = [];
    const answer = {
      role: "assistant" as const,
      content: { type: "text", text: "4" },
      model: "m-1",
      stopReason: "endTurn",
    };
    const c = await open(h.url, "sampler", {
      capabilities: ALL,
      onSample: (params, ctx) => {
        seen.push({ params, id: ctx.requestId });
        return answer;
      },
    });
    const res = await c.callTool("sample", { q: "what is 2+2?" });
    assert.equal(seen.length, 1);
    assert.ok(typeof seen[0].id === "string" || typeof seen[0].id === "number");
    assert.deepEqual(seen[0].params, samplingParams("what is 2+2?"));
    assert.equal(res.isError, undefined);
    assert.deepEqual(JSON.parse(textOf(res)), answer);
    await c.close();
  });

  test("two outstanding requests answered in reverse order are routed by id", async () => {
    const asked: { text: string; id: RequestId; answer: Deferred<CreateMessageResult> }[] = [];
    const both = deferred<void>();
    const c = await open(h.url, "reverse", {
      capabilities: ALL,
      onSample: (params, ctx) => {
        const answer = deferred<CreateMessageResult>();
        asked.push({ text: (params.messages[0].content as { text: string }).text, id: ctx.requestId, answer });
        if (asked.length === 2) both.resolve();
        return answer.promise;
      },
    });
    // Record the order in which the client's answers reach the server.
    const session = sessionNamed(server, "reverse");
    const answered: unknown[] = [];
    const receive = session.receive.bind(session);
    session.receive = (text: string) => {
      const f = JSON.parse(text) as Frame;
      if (f.method === undefined) answered.push(f.id);
      receive(text);
    };
    const call = c.callTool("sample_two");
    await within(both.promise, "two sampling requests");
    const [r1, r2] = asked;
    assert.notEqual(r1.id, r2.id);
    const answerTo = (r: typeof r1) =>
      r.answer.resolve({ role: "assistant", content: { type: "text", text: `echo:${r.text}` }, model: "m" });
    // Answer the second first. The client sends an answer a few microtasks after its handler
    // settles, so a ping round trip in between puts r2's answer on the wire before r1's.
    answerTo(r2);
    await c.ping();
    answerTo(r1);
    const res = await call;
    assert.deepEqual(answered, [r2.id, r1.id], "the answers arrived in reverse order");
    assert.deepEqual(JSON.parse(textOf(res)), [
      { type: "text", text: "echo:first" },
      { type: "text", text: "echo:second" },
    ]);
    await c.close();
  });

  test("a client error reply becomes the tool's error", async () => {
    // The client answers a handler's McpError with { code, message }: here { code: -1, message }.
    const c = await open(h.url, "refuser", {
      capabilities: ALL,
      onSample: () => {
        throw new McpError(-1, "user refused sampling");
      },
    });
    const res = await c.callTool("sample", { q: "no" });
    assert.equal(res.isError, true);
    assert.match(textOf(res), /user refused sampling/);
    await c.close();
  });

  test("ctx.elicit sends requestedSchema derived from the zod object, mode form on 2025-11-25", async () => {
    const seen: ElicitParams[] = [];
    const c = await open(h.url, "elicit-schema", {
      capabilities: ALL,
      onElicit: (params) => {
        seen.push(params);
        return { action: "accept", content: { name: "Ada", age: 36, admin: true, color: "red", extra: "x" } };
      },
    });
    const res = await c.callTool("ask");
    assert.deepEqual(seen, [{
      mode: "form",
      message: "Who are you?",
      requestedSchema: {
        type: "object",
        properties: {
          name: { type: "string", description: "Your name" },
          age: { type: "integer", minimum: 0, maximum: 150 },
          admin: { type: "boolean" },
          color: { type: "string", enum: ["red", "green"] },
          nickname: { type: "string" },
        },
        required: ["name", "age", "admin", "color"],
      },
    }]);
    assert.equal(res.isError, undefined);
    // The tool sees the validated (typed) value, not the raw answer.
    assert.deepEqual(JSON.parse(textOf(res)), {
      content: { name: "Ada", age: 36, admin: true, color: "red" },
      nextAge: 37,
      ageType: "number",
    });
    await c.close();
  });

  test("accepted content that fails the schema makes the tool report an error", async () => {
    const c = await open(h.url, "elicit-bad", {
      capabilities: ALL,
      onElicit: () => ({ action: "accept", content: { name: "Ada", age: "old", admin: true, color: "blue" } }),
    });
    const res = await c.callTool("ask");
    assert.equal(res.isError, true);
    assert.match(textOf(res), /age/);
    assert.match(textOf(res), /color/);
    await c.close();
  });

  test("decline and cancel pass through", async () => {
    let action: "decline" | "cancel" = "decline";
    let asked = 0;
    const c = await open(h.url, "elicit-no", {
      capabilities: ALL,
      onElicit: () => (asked++, { action }),
    });
    for (const a of ["decline", "cancel"] as const) {
      action = a;
      const res = await c.callTool("ask");
      assert.equal(res.isError, undefined);
      assert.deepEqual(JSON.parse(textOf(res)), { action: a });
    }
    assert.equal(asked, 2);
    await c.close();
  });

  test("a 2025-06-18 session gets elicitation without mode", async () => {
    const seen: ElicitParams[] = [];
    const c = await open(h.url, "elicit-old", {
      protocolVersion: "2025-06-18",
      capabilities: { elicitation: {} },
      onElicit: (params) => (seen.push(params), { action: "decline" }),
    });
    assert.equal(c.protocolVersion, "2025-06-18");
    assert.deepEqual(sessionNamed(server, "elicit-old").clientCapabilities, { elicitation: {} });
    const res = await c.callTool("ask");
    assert.equal(seen.length, 1);
    assert.equal("mode" in seen[0], false);
    assert.equal(seen[0].message, "Who are you?");
    assert.equal((seen[0].requestedSchema as { type: string }).type, "object");
    assert.deepEqual(JSON.parse(textOf(res)), { action: "decline" });
    await c.close();
  });

  test("ctx.listRoots: the client answers roots/list", async () => {
    const roots = [{ uri: "file:///work", name: "work" }, { uri: "file:///tmp" }];
    const c = await open(h.url, "rooter", { capabilities: ALL, onListRoots: () => roots });
    const res = await c.callTool("roots");
    assert.deepEqual(JSON.parse(textOf(res)), roots);
    await c.close();
  });

  test("a missing capability gives an error naming it, and no request is sent", async () => {
    // Raw frames: the point is that no request frame arrives; the client answers a request it
    // has no handler for by itself (-32601), so it would never show one.
    const { c } = await readyAs(h.url, "no-caps", {});
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["sample", { q: "x" }, /sampling/],
      ["ask", {}, /elicitation/],
      ["roots", {}, /roots/],
    ];
    for (const [tool, args, names] of cases) {
      const res = await c.call(tool, args);
      assert.equal(res.result.isError, true, tool);
      assert.match(res.result.content[0].text, names);
      assert.match(res.result.content[0].text, /capabilit/);
    }
    await assertNothing(
      c,
      (f) => ["sampling/createMessage", "elicitation/create", "roots/list"].includes(f.method ?? ""),
      "no request to a client without the capability",
    );
    await c.close();
  });

  test("a per-call timeout fails the request and sends notifications/cancelled for it", async () => {
    // Raw frames: the test answers after the server cancelled, which the client never does.
    const { c } = await readyAs(h.url, "slow-client", ALL);
    const call = c.call("sample_quick");
    const req = await requestFor(c, "sampling/createMessage");
    // Do not answer: the server times out by itself.
    const res = await call;
    assert.equal(res.result.isError, true);
    assert.match(
      res.result.content[0].text,
      /Request timed out: the client did not answer sampling\/createMessage within 150 ms/,
    );
    const cancelled = await c.notification("notifications/cancelled");
    assert.equal(cancelled.params?.requestId, req.id);
    // A late answer is ignored and the connection keeps working.
    reply(c, req.id, { role: "assistant", content: { type: "text", text: "late" }, model: "m" });
    assert.deepEqual((await c.request("ping")).result, {});
    await c.close();
  });

  test("the clientRequestTimeout option times out requests, with notifications/cancelled", async () => {
    const s2 = newServer({ clientRequestTimeout: 200 });
    s2.tool("roots", {}, async (_a, ctx) => JSON.stringify(await ctx.listRoots()));
    const h2 = start(s2);
    const asked = deferred<RequestId>();
    const abortedBy = deferred<unknown>();
    const c = await open(h2.url, "slow-roots", {
      capabilities: ALL,
      // Never answers; settles only when the server cancels the request.
      onListRoots: (ctx) =>
        new Promise((_, reject) => {
          ctx.signal.addEventListener("abort", () => {
            abortedBy.resolve(ctx.signal.reason);
            reject(ctx.signal.reason);
          }, { once: true });
          asked.resolve(ctx.requestId);
        }),
    });
    const box = new Inbox(c, ["notifications/cancelled"]);
    const res = await c.callTool("roots");
    assert.equal(res.isError, true);
    assert.match(textOf(res), /Request timed out: the client did not answer roots\/list within 200 ms/);
    const cancelled = await box.next("notifications/cancelled");
    assert.equal(cancelled.requestId, await within(asked.promise, "roots/list asked"));
    // The cancellation reached the client's handler as an abort.
    await within(abortedBy.promise, "the roots/list handler aborted");
    box.close();
    await c.close();
    await h2.close({ timeout: 100 });
  });

  test("cancelling the tool call cancels its outstanding client request", async () => {
    // Raw frames: the point includes that the cancelled tool call gets no response, and the
    // client drops late answers to requests it cancelled, so only raw frames show it.
    const { c } = await readyAs(h.url, "cancel-chain", ALL);
    c.send({ jsonrpc: "2.0", id: "chain", method: "tools/call", params: { name: "sample", arguments: { q: "x" } } });
    const req = await requestFor(c, "sampling/createMessage");
    c.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "chain" } });
    const cancelled = await c.notification("notifications/cancelled");
    assert.equal(cancelled.params?.requestId, req.id);
    await assertNothing(c, (f) => f.id === "chain", "the cancelled tool call gets no response");
    await c.close();
  });

  test("notifications/roots/list_changed reaches onRootsListChanged with the session", async () => {
    const c = await open(h.url, "roots-changer", { capabilities: ALL });
    rootsChanged.length = 0;
    rootsWaiter = deferred<void>();
    c.notifyRootsListChanged();
    await within(rootsWaiter.promise, "onRootsListChanged");
    assert.equal(rootsChanged.length, 1);
    assert.equal(rootsChanged[0], sessionNamed(server, "roots-changer"));
    await c.close();
  });
});

// ---------------------------------------------------------------------------

describe("list_changed", () => {
  const LIST_CHANGED = [
    "notifications/tools/list_changed",
    "notifications/resources/list_changed",
    "notifications/prompts/list_changed",
  ];

  async function setup() {
    const server = newServer();
    server.tool("t0", {}, () => "t0");
    server.resource("mem://r0", {}, () => "r0");
    server.prompt("p0", {}, () => "p0");
    const h = start(server);
    const a = await open(h.url, "lc-a");
    const notes = new Inbox(a, LIST_CHANGED);
    // b stays raw: a client listener gets `params ?? {}`, so only raw frames show that a
    // list_changed notification carries no params at all.
    const b = (await readyAs(h.url, "lc-b")).c;
    // u stays raw: connected, never initialized (the client always initializes).
    const u = await RawClient.connect(h.url);
    return {
      server,
      a,
      notes,
      b,
      u,
      async close() {
        notes.close();
        await a.close();
        for (const c of [b, u]) await c.close();
        await h.close({ timeout: 100 });
      },
    };
  }
  const toolNames = async (c: McpClient) => (await c.listTools()).tools.map((t) => t.name).sort();

  test("capabilities carry listChanged: true", async () => {
    const env = await setup();
    assert.deepEqual(env.a.serverCapabilities.tools, { listChanged: true });
    assert.deepEqual(env.a.serverCapabilities.prompts, { listChanged: true });
    assert.equal(env.a.serverCapabilities.resources?.listChanged, true);
    await env.close();
  });

  for (const kind of ["tools", "resources", "prompts"] as const) {
    test(`registering a ${kind.slice(0, -1)} notifies every initialized session, not an uninitialized one`, async () => {
      const env = await setup();
      if (kind === "tools") env.server.tool("t1", {}, () => "t1");
      if (kind === "resources") env.server.resource("mem://r1", {}, () => "r1");
      if (kind === "prompts") env.server.prompt("p1", {}, () => "p1");
      const method = `notifications/${kind}/list_changed`;
      assert.deepEqual(await env.notes.next(method), {});
      await assertQuiet(env.a, env.notes, isListChanged, `exactly one ${method}, no other kind`);
      const note = await env.b.notification(method);
      assert.equal(note.params, undefined);
      await assertNothing(env.b, (f) => /list_changed$/.test(f.method ?? ""), `exactly one ${method}, no other kind`);
      await assertNothing(env.u, (f) => /list_changed$/.test(f.method ?? ""), "the uninitialized client got nothing");
      const names = kind === "tools"
        ? (await env.a.listTools()).tools.map((x) => x.name)
        : kind === "prompts"
        ? (await env.a.listPrompts()).prompts.map((x) => x.name)
        : (await env.a.listResources()).resources.map((x) => x.name);
      assert.ok(names.includes(kind === "tools" ? "t1" : kind === "prompts" ? "p1" : "mem://r1"), names.join());
      await env.close();
    });
  }

  test("disable, enable and remove each notify and change tools/list; a disabled tool gives -32602", async () => {
    const env = await setup();
    const handle = env.server.tool("t2", {}, () => "t2");
    const note = "notifications/tools/list_changed";
    await env.notes.next(note);
    await env.b.notification(note);
    assert.deepEqual(await toolNames(env.a), ["t0", "t2"]);

    handle.disable();
    assert.equal(handle.enabled, false);
    await env.notes.next(note);
    await env.b.notification(note);
    assert.deepEqual(await toolNames(env.a), ["t0"]);
    const disabled = await rejection(env.a.callTool("t2"), "call of disabled t2");
    assert.equal(disabled.code, ErrorCode.InvalidParams);

    handle.enable();
    await env.notes.next(note);
    await env.b.notification(note);
    assert.deepEqual(await toolNames(env.a), ["t0", "t2"]);
    assert.equal(textOf(await env.a.callTool("t2")), "t2");

    handle.remove();
    await env.notes.next(note);
    await env.b.notification(note);
    assert.deepEqual(await toolNames(env.a), ["t0"]);
    assert.equal((await rejection(env.a.callTool("t2"), "call of removed t2")).code, ErrorCode.InvalidParams);
    await assertQuiet(env.a, env.notes, note, "one notification per change");
    await assertNothing(env.u, isNote(note), "the uninitialized client got nothing");
    await env.close();
  });

  test("disabling a resource and a prompt notifies and hides them", async () => {
    const env = await setup();
    const r = env.server.resource("mem://r2", {}, () => "r2");
    const p = env.server.prompt("p2", {}, () => "p2");
    await env.notes.next("notifications/resources/list_changed");
    await env.notes.next("notifications/prompts/list_changed");
    r.disable();
    p.disable();
    await env.notes.next("notifications/resources/list_changed");
    await env.notes.next("notifications/prompts/list_changed");
    const resources = (await env.a.listResources()).resources.map((x) => x.uri);
    assert.deepEqual(resources, ["mem://r0"]);
    const prompts = (await env.a.listPrompts()).prompts.map((x) => x.name);
    assert.deepEqual(prompts, ["p0"]);
    assert.equal((await rejection(env.a.readResource("mem://r2"), "read of disabled mem://r2")).code, -32002);
    assert.equal(
      (await rejection(env.a.getPrompt("p2"), "get of disabled p2")).code,
      ErrorCode.InvalidParams,
    );
    await env.close();
  });

  test("a burst of 5 registrations in one tick sends one notification per kind", async () => {
    const env = await setup();
    for (let i = 0; i < 5; i++) {
      env.server.tool(`burst${i}`, {}, () => "b");
      env.server.prompt(`burst${i}`, {}, () => "b");
    }
    const expected = ["notifications/prompts/list_changed", "notifications/tools/list_changed"];
    await env.a.ping();
    const changesA = env.notes.notes.filter(isListChanged).map((n) => n.method).sort();
    env.notes.take(isListChanged);
    assert.deepEqual(changesA, expected);
    await env.b.request("ping");
    const changesB = take(env.b, (f) => /list_changed$/.test(f.method ?? "")).map((f) => f.method).sort();
    assert.deepEqual(changesB, expected);
    assert.equal((await toolNames(env.a)).length, 6);
    await env.close();
  });
});

// ---------------------------------------------------------------------------

describe("Pagination", () => {
  let h: ServeHandle;
  let c: McpClient;

  before(async () => {
    const server = newServer({ pageSize: 2 });
    for (let i = 1; i <= 5; i++) {
      server.tool(`tool${i}`, {}, () => "x");
      server.prompt(`prompt${i}`, {}, () => "x");
      server.resource(`mem://res${i}`, {}, () => "x");
    }
    for (let i = 1; i <= 3; i++) server.resourceTemplate(`tpl${i}://{x}`, {}, () => "x");
    h = start(server);
    c = await open(h.url, "pager");
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  /** One page of `method`, through the client's typed list method. */
  function page(method: string, cursor: string | undefined): Promise<Page> {
    const params = cursor === undefined ? undefined : { cursor };
    if (method === "tools/list") return c.listTools(params);
    if (method === "prompts/list") return c.listPrompts(params);
    if (method === "resources/list") return c.listResources(params);
    if (method === "resources/templates/list") return c.listResourceTemplates(params);
    throw new Error(`no list method ${method}`);
  }

  /** Every item of `method`, through the client's listAll* method. */
  async function all(method: string, key: string): Promise<string[]> {
    const items: unknown[] = method === "tools/list"
      ? await c.listAllTools()
      : method === "prompts/list"
      ? await c.listAllPrompts()
      : method === "resources/list"
      ? await c.listAllResources()
      : await c.listAllResourceTemplates();
    return items.map((x) => (x as Record<string, string>)[key]);
  }

  async function walk(method: string, field: string, key: string): Promise<{ pages: string[][]; cursors: string[] }> {
    const pages: string[][] = [];
    const cursors: string[] = [];
    let cursor: string | undefined;
    for (let n = 0; n < 10; n++) {
      const res = await page(method, cursor) as Page & Record<string, unknown>;
      pages.push((res[field] as Record<string, string>[]).map((x) => x[key]));
      if (!("nextCursor" in res)) return { pages, cursors };
      assert.equal(typeof res.nextCursor, "string");
      cursor = res.nextCursor;
      cursors.push(cursor!);
    }
    throw new Error(`${method} did not end within 10 pages`);
  }

  const cases: [string, string, string, string[]][] = [
    ["tools/list", "tools", "name", [1, 2, 3, 4, 5].map((i) => `tool${i}`)],
    ["prompts/list", "prompts", "name", [1, 2, 3, 4, 5].map((i) => `prompt${i}`)],
    ["resources/list", "resources", "uri", [1, 2, 3, 4, 5].map((i) => `mem://res${i}`)],
  ];
  for (const [method, field, key, items] of cases) {
    test(`${method}: 3 pages of at most 2, no nextCursor on the last, every item once`, async () => {
      const { pages, cursors } = await walk(method, field, key);
      assert.equal(pages.length, 3);
      assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
      assert.equal(cursors.length, 2);
      assert.deepEqual(pages.flat().sort(), [...items].sort());
      assert.deepEqual(await all(method, key), pages.flat(), "the client's listAll follows the same pages");
    });
  }

  test("resources/templates/list pages too", async () => {
    const { pages } = await walk("resources/templates/list", "resourceTemplates", "uriTemplate");
    assert.deepEqual(pages.map((p) => p.length), [2, 1]);
    assert.deepEqual(pages.flat().sort(), ["tpl1://{x}", "tpl2://{x}", "tpl3://{x}"]);
    assert.deepEqual(await all("resources/templates/list", "uriTemplate"), pages.flat());
  });

  test("a garbage cursor, another list's cursor and a non-string cursor give -32602", async () => {
    const toolsCursor = (await c.listTools()).nextCursor as string;
    const promptsCursor = (await c.listPrompts()).nextCursor as string;
    const resourcesCursor = (await c.listResources()).nextCursor as string;
    const bad: [string, unknown][] = [
      ["tools/list", "%%% not a cursor %%%"],
      ["tools/list", "Zm9v"],
      ["tools/list", ""],
      ["tools/list", promptsCursor],
      ["prompts/list", toolsCursor],
      ["resources/list", toolsCursor],
      ["resources/templates/list", resourcesCursor],
      ["prompts/list", resourcesCursor],
      ["tools/list", 2],
      ["tools/list", { offset: 2 }],
      ["prompts/list", null],
    ];
    // Through request(): the typed list methods rightly take only a string cursor.
    for (const [method, cursor] of bad) {
      const what = `${method} with cursor ${JSON.stringify(cursor)}`;
      const err = await rejection(c.request(method, { cursor }), what);
      assert.equal(err.code, ErrorCode.InvalidParams, what);
    }
    // The genuine cursor still works.
    const page2 = await c.listTools({ cursor: toolsCursor });
    assert.equal(page2.tools.length, 2);
  });
});

// ---------------------------------------------------------------------------

describe("Tool metadata", () => {
  let h: ServeHandle;
  let c: McpClient;
  const blocks: ContentBlock[] = [
    { type: "text", text: "hello", annotations: { audience: ["assistant"], priority: 0.2 } },
    { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" },
    { type: "audio", data: "UklGRg==", mimeType: "audio/wav", _meta: { seconds: 1 } },
    {
      type: "resource_link",
      uri: "file:///report.pdf",
      name: "report.pdf",
      title: "Report",
      description: "The report",
      mimeType: "application/pdf",
      size: 1234,
    },
    { type: "resource", resource: { uri: "mem://note", mimeType: "text/plain", text: "note" } },
    { type: "resource", resource: { uri: "mem://bin", mimeType: "application/octet-stream", blob: "AAEC" } },
  ];

  before(async () => {
    const server = newServer();
    server.tool("fancy", {
      title: "Fancy Tool",
      description: "Does fancy things",
      annotations: {
        title: "Fancy",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
      icons: [{ src: "https://example.com/icon.png", mimeType: "image/png", sizes: ["48x48"], theme: "dark" }],
      _meta: { "example.com/owner": "team-a" },
    }, () => "fancy");
    server.tool("content", {}, () => blocks);
    server.tool("one_block", {}, () => blocks[3]);
    h = start(server);
    c = await open(h.url, "meta");
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  test("title, annotations, icons and _meta appear in tools/list", async () => {
    const res = await c.listTools();
    const fancy = res.tools.find((t) => t.name === "fancy");
    assert.deepEqual(fancy, {
      name: "fancy",
      title: "Fancy Tool",
      description: "Does fancy things",
      inputSchema: { type: "object", additionalProperties: false },
      annotations: {
        title: "Fancy",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
      icons: [{ src: "https://example.com/icon.png", mimeType: "image/png", sizes: ["48x48"], theme: "dark" }],
      _meta: { "example.com/owner": "team-a" },
    });
    const plain = res.tools.find((t) => t.name === "content");
    assert.ok(plain);
    for (const key of ["title", "annotations", "icons", "_meta"]) assert.equal(key in plain, false, key);
  });

  test("text, image, audio, resource_link and embedded resource content pass through", async () => {
    const res = await c.callTool("content");
    assert.deepEqual(res, { content: blocks });
    const one = await c.callTool("one_block");
    assert.deepEqual(one, { content: [blocks[3]] });
  });
});
