// The MCP 2025-11-25 server surface over a real WebSocket: resources, prompts, completion,
// logging, progress, cancellation, server -> client requests, list_changed, pagination,
// tool metadata and content.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import {
  type ContentBlock,
  ErrorCode,
  McpServer,
  type McpServerOptions,
  type PromptMessage,
  type ServeHandle,
  type Session,
} from "../mod.ts";
import { type Frame, RawClient, start } from "./helpers.ts";

// ---------------------------------------------------------------------------
// Local helpers

function newServer(options: Partial<McpServerOptions> = {}): McpServer {
  return new McpServer({ name: "surface", version: "1.0.0", ...options });
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Awaits `p`, failing after `ms` instead of hanging; the timer is always cleared. */
async function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fail = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, fail]);
  } finally {
    clearTimeout(timer);
  }
}

/** Removes and returns every queued frame that matches. */
function take(c: RawClient, match: (f: Frame) => boolean): Frame[] {
  const out = c.frames.filter(match);
  c.frames = c.frames.filter((f) => !match(f));
  return out;
}

const isNote = (method: string) => (f: Frame) => f.method === method && f.id === undefined;

/**
 * A ping round trip, then asserts that no queued frame matches: frames on one socket are
 * ordered, so anything the server sent before answering the ping has arrived by now.
 */
async function assertNothing(c: RawClient, match: (f: Frame) => boolean, what: string): Promise<void> {
  const pong = await c.request("ping");
  assert.deepEqual(pong.result, {});
  assert.deepEqual(c.frames.filter(match), [], what);
}

/** Connects and initializes with a chosen clientInfo name; returns the client and the initialize result. */
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
    const { c, init } = await readyAs(h.url, "lister");
    assert.deepEqual(init.capabilities.resources, { subscribe: true, listChanged: true });
    const list = await c.request("resources/list");
    const byUri = Object.fromEntries(list.result.resources.map((r: { uri: string }) => [r.uri, r]));
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
    assert.equal(list.result.nextCursor, undefined);
    const templates = await c.request("resources/templates/list");
    assert.deepEqual(templates.result.resourceTemplates, [
      { uriTemplate: "users://{id}/posts/{post}", name: "posts", title: "Posts", mimeType: "text/plain" },
    ]);
    await c.close();
  });

  test("resources/read returns text contents with the resource's mimeType", async () => {
    const { c } = await readyAs(h.url, "text-reader");
    const res = await c.request("resources/read", { uri: "mem://text" });
    assert.deepEqual(res.result, {
      contents: [{ uri: "mem://text", mimeType: "text/plain", text: "hello from mem://text" }],
    });
    await c.close();
  });

  test("a Uint8Array becomes base64 blob contents that decode to the same bytes", async () => {
    const { c } = await readyAs(h.url, "blob-reader");
    const small = await c.request("resources/read", { uri: "mem://bytes" });
    assert.equal(small.result.contents.length, 1);
    const [one] = small.result.contents;
    assert.equal(one.uri, "mem://bytes");
    assert.equal(one.mimeType, "application/octet-stream");
    assert.equal(one.text, undefined);
    assert.equal(typeof one.blob, "string");
    assert.deepEqual(decodeBase64(one.blob), smallBytes);

    const big = await c.request("resources/read", { uri: "mem://big" });
    const [b] = big.result.contents;
    assert.equal(b.uri, "mem://big");
    assert.equal("mimeType" in b, false, "no mimeType was registered");
    assert.deepEqual(decodeBase64(b.blob), bigBytes);
    await c.close();
  });

  test("readers may return a contents object, an array, or a full { contents }", async () => {
    const { c } = await readyAs(h.url, "shape-reader");
    const obj = await c.request("resources/read", { uri: "mem://object" });
    assert.deepEqual(obj.result, { contents: [{ uri: "mem://object", mimeType: "text/markdown", text: "# object" }] });
    const arr = await c.request("resources/read", { uri: "mem://array" });
    assert.deepEqual(arr.result, {
      contents: [
        { uri: "mem://array/a", text: "A" },
        { uri: "mem://array/b", mimeType: "application/octet-stream", blob: "AAEC" },
      ],
    });
    const full = await c.request("resources/read", { uri: "mem://full" });
    assert.deepEqual(full.result, {
      contents: [{ uri: "mem://full", text: "full", _meta: { "example.com/k": 1 } }],
      _meta: { "example.com/r": true },
    });
    await c.close();
  });

  test("a resource template's reader gets the URI and the matched variables", async () => {
    const { c } = await readyAs(h.url, "template-reader");
    templateCalls.length = 0;
    const res = await c.request("resources/read", { uri: "users://ada/posts/42" });
    assert.deepEqual(res.result, {
      contents: [{ uri: "users://ada/posts/42", mimeType: "text/plain", text: "post 42 of ada" }],
    });
    assert.deepEqual(templateCalls, [{ uri: "users://ada/posts/42", vars: { id: "ada", post: "42" } }]);
    await c.close();
  });

  test("an unknown URI gives -32002 with data.uri", async () => {
    const { c } = await readyAs(h.url, "missing-reader");
    const res = await c.request("resources/read", { uri: "mem://nope" });
    assert.equal(res.result, undefined);
    assert.equal(res.error?.code, -32002);
    assert.equal(res.error?.code, ErrorCode.ResourceNotFound);
    assert.deepEqual(res.error?.data, { uri: "mem://nope" });
    // A URI the template does not match is unknown too.
    const partial = await c.request("resources/read", { uri: "users://ada" });
    assert.equal(partial.error?.code, -32002);
    assert.deepEqual(partial.error?.data, { uri: "users://ada" });
    await c.close();
  });

  test("resourceUpdated notifies only the sessions subscribed to that URI, and not after unsubscribe", async () => {
    const a = (await readyAs(h.url, "sub-a")).c;
    const b = (await readyAs(h.url, "sub-b")).c;
    const updated = isNote("notifications/resources/updated");
    assert.deepEqual((await a.request("resources/subscribe", { uri: "mem://text" })).result, {});
    assert.deepEqual((await b.request("resources/subscribe", { uri: "mem://bytes" })).result, {});

    server.resourceUpdated("mem://text");
    const note = await a.notification("notifications/resources/updated");
    assert.deepEqual(note.params, { uri: "mem://text" });
    await assertNothing(b, updated, "b did not subscribe to mem://text");
    await assertNothing(a, updated, "a got exactly one notification");

    server.resourceUpdated("mem://bytes");
    assert.deepEqual((await b.notification("notifications/resources/updated")).params, { uri: "mem://bytes" });
    await assertNothing(a, updated, "a did not subscribe to mem://bytes");

    assert.deepEqual((await a.request("resources/unsubscribe", { uri: "mem://text" })).result, {});
    server.resourceUpdated("mem://text");
    await assertNothing(a, updated, "a unsubscribed from mem://text");
    await assertNothing(b, updated, "b never subscribed to mem://text");
    await a.close();
    await b.close();
  });
});

// ---------------------------------------------------------------------------

describe("Prompts", () => {
  let h: ServeHandle;
  let c: RawClient;
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
    c = (await readyAs(h.url, "prompts")).c;
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  test("prompts/list derives arguments (name, description, required) from the zod object", async () => {
    const res = await c.request("prompts/list");
    const greet = res.result.prompts.find((p: { name: string }) => p.name === "greet");
    assert.deepEqual(greet, {
      name: "greet",
      title: "Greeting",
      description: "Greets someone",
      arguments: [
        { name: "name", description: "Who to greet", required: true },
        { name: "style", description: "Tone of voice", required: false },
      ],
    });
    const richPrompt = res.result.prompts.find((p: { name: string }) => p.name === "rich");
    assert.deepEqual(richPrompt, { name: "rich", description: "Every content type" });
  });

  test("a handler returning a string becomes one user text message", async () => {
    const res = await c.request("prompts/get", { name: "greet", arguments: { name: "Ada", style: "warm" } });
    assert.deepEqual(res.result.messages, [{ role: "user", content: { type: "text", text: "Hello, Ada (warm)!" } }]);
    const noStyle = await c.request("prompts/get", { name: "greet", arguments: { name: "Alan" } });
    assert.deepEqual(noStyle.result.messages, [{ role: "user", content: { type: "text", text: "Hello, Alan!" } }]);
  });

  test("a missing required argument gives -32602 naming it", async () => {
    const res = await c.request("prompts/get", { name: "greet", arguments: { style: "warm" } });
    assert.equal(res.error?.code, ErrorCode.InvalidParams);
    assert.match(res.error!.message, /name/);
    const none = await c.request("prompts/get", { name: "greet" });
    assert.equal(none.error?.code, ErrorCode.InvalidParams);
  });

  test("an argument of the wrong type gives -32602", async () => {
    const res = await c.request("prompts/get", { name: "greet", arguments: { name: 5 } });
    assert.equal(res.error?.code, ErrorCode.InvalidParams);
  });

  test("an unknown prompt gives -32602", async () => {
    const res = await c.request("prompts/get", { name: "nope", arguments: {} });
    assert.equal(res.error?.code, ErrorCode.InvalidParams);
    assert.match(res.error!.message, /nope/);
  });

  test("text, image, audio, resource_link and embedded resource messages pass through unchanged", async () => {
    const res = await c.request("prompts/get", { name: "rich" });
    assert.equal(res.error, undefined);
    assert.deepEqual(res.result.messages, rich);
  });
});

// ---------------------------------------------------------------------------

describe("Completion", () => {
  let h: ServeHandle;
  let c: RawClient;
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
    const ready = await readyAs(h.url, "completer");
    assert.deepEqual(ready.init.capabilities.completions, {});
    c = ready.c;
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  const complete = (ref: Record<string, unknown>, name: string, value: string, context?: Record<string, string>) =>
    c.request(
      "completion/complete",
      context
        ? { ref, argument: { name, value }, context: { arguments: context } }
        : { ref, argument: { name, value } },
    );

  test("completes a prompt argument", async () => {
    const res = await complete({ type: "ref/prompt", name: "code" }, "language", "t");
    assert.deepEqual(res.result.completion.values, ["typescript", "tsx"]);
    assert.notEqual(res.result.completion.hasMore, true);
  });

  test("context.arguments reaches the completer", async () => {
    seenContexts.length = 0;
    const py = await complete({ type: "ref/prompt", name: "code" }, "framework", "", { language: "python" });
    assert.deepEqual(py.result.completion.values, ["django", "flask"]);
    const ts = await complete({ type: "ref/prompt", name: "code" }, "framework", "re", { language: "typescript" });
    assert.deepEqual(ts.result.completion.values, ["react", "remix"]);
    assert.deepEqual(seenContexts, [{ language: "python" }, { language: "typescript" }]);
  });

  test("completes a resource-template variable, with context", async () => {
    const owner = await complete({ type: "ref/resource", uri: "repo://{owner}/{name}" }, "owner", "a");
    assert.deepEqual(owner.result.completion.values, ["ada", "alan"]);
    const name = await complete({ type: "ref/resource", uri: "repo://{owner}/{name}" }, "name", "x", {
      owner: "grace",
    });
    assert.deepEqual(name.result.completion.values, ["grace-x1", "grace-x2"]);
  });

  test("150 candidates: the first 100 values, total 150, hasMore true", async () => {
    const res = await complete({ type: "ref/prompt", name: "code" }, "many", "");
    assert.deepEqual(res.result.completion, { values: many.slice(0, 100), total: 150, hasMore: true });
  });

  test("an unknown ref gives -32602", async () => {
    const prompt = await complete({ type: "ref/prompt", name: "nope" }, "language", "");
    assert.equal(prompt.error?.code, ErrorCode.InvalidParams);
    const tpl = await complete({ type: "ref/resource", uri: "nope://{x}" }, "x", "");
    assert.equal(tpl.error?.code, ErrorCode.InvalidParams);
    const kind = await complete({ type: "ref/other", name: "code" }, "language", "");
    assert.equal(kind.error?.code, ErrorCode.InvalidParams);
  });

  test("no completer for the argument gives empty values", async () => {
    const free = await complete({ type: "ref/prompt", name: "code" }, "free", "abc");
    assert.deepEqual(free.result.completion.values, []);
    assert.notEqual(free.result.completion.hasMore, true);
    const plain = await complete({ type: "ref/prompt", name: "plain" }, "a", "");
    assert.deepEqual(plain.result.completion.values, []);
  });
});

// ---------------------------------------------------------------------------

describe("Logging", () => {
  let h: ServeHandle;
  let server: McpServer;
  const LEVELS = ["debug", "info", "warning", "error"] as const;
  const messages = (c: RawClient) => take(c, isNote("notifications/message")).map((f) => f.params);

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
    const a = (await readyAs(h.url, "log-a")).c;
    const b = (await readyAs(h.url, "log-b")).c;
    assert.deepEqual((await a.request("logging/setLevel", { level: "warning" })).result, {});
    assert.deepEqual((await b.request("logging/setLevel", { level: "debug" })).result, {});
    for (const level of LEVELS) server.log(level, { n: level });
    server.log("error", "with logger", "db");
    await a.request("ping");
    await b.request("ping");
    assert.deepEqual(messages(a), [
      { level: "warning", data: { n: "warning" } },
      { level: "error", data: { n: "error" } },
      { level: "error", logger: "db", data: "with logger" },
    ]);
    assert.deepEqual(messages(b), [
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
    const a = (await readyAs(h.url, "tool-log-a")).c;
    const b = (await readyAs(h.url, "tool-log-b")).c;
    await a.request("logging/setLevel", { level: "warning" });
    await b.request("logging/setLevel", { level: "debug" });

    const ra = await a.call("chatty");
    assert.deepEqual(ra.result.content, [{ type: "text", text: "done" }]);
    assert.deepEqual(messages(a), [
      { level: "warning", logger: "tool", data: "tool-warning" },
      { level: "error", logger: "tool", data: "tool-error" },
    ]);
    const rb = await b.call("chatty");
    assert.deepEqual(rb.result.content, [{ type: "text", text: "done" }]);
    assert.deepEqual(messages(b), LEVELS.map((level) => ({ level, logger: "tool", data: `tool-${level}` })));
    await assertNothing(a, isNote("notifications/message"), "b's tool logs went to a");
    await a.close();
    await b.close();
  });

  test("an invalid level gives -32602", async () => {
    const { c } = await readyAs(h.url, "bad-level");
    for (const params of [{ level: "verbose" }, { level: 3 }, {}]) {
      const res = await c.request("logging/setLevel", params);
      assert.equal(res.error?.code, ErrorCode.InvalidParams, JSON.stringify(params));
    }
    await c.close();
  });

  test("the default level is info: debug is not sent before setLevel", async () => {
    const { c } = await readyAs(h.url, "default-level");
    server.log("debug", "hidden");
    server.log("info", "shown");
    await c.request("ping");
    assert.deepEqual(messages(c), [{ level: "info", data: "shown" }]);
    const res = await c.call("chatty");
    assert.equal(res.result.isError, undefined);
    assert.deepEqual(messages(c).map((m) => m!.level), ["info", "warning", "error"]);
    await c.request("logging/setLevel", { level: "debug" });
    server.log("debug", "now shown");
    await c.request("ping");
    assert.deepEqual(messages(c), [{ level: "debug", data: "now shown" }]);
    await c.close();
  });
});

// ---------------------------------------------------------------------------

describe("Progress", () => {
  let h: ServeHandle;
  let c: RawClient;

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
    c = (await readyAs(h.url, "progress")).c;
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  for (const token of ["tok-1", 0] as const) {
    test(`${typeof token} progress token: notifications in order, before the result`, async () => {
      const id = `work-${typeof token}`;
      const res = await c.request("tools/call", {
        name: "work",
        arguments: { steps: 3 },
        _meta: { progressToken: token },
      }, id);
      assert.deepEqual(res.result.content, [{ type: "text", text: "did 3" }]);
      const progress = take(c, isNote("notifications/progress")).map((f) => f.params);
      assert.deepEqual(
        progress,
        [1, 2, 3].map((i) => ({ progressToken: token, progress: i, total: 3, message: `step ${i}` })),
      );
      // Wire order: every progress frame came before the response.
      const parsed = c.raw.map((t) => JSON.parse(t) as Frame);
      const responseAt = parsed.findIndex((f) => f.id === id && f.method === undefined);
      const progressAt = parsed
        .map((f, i) => (f.method === "notifications/progress" && f.params?.progressToken === token ? i : -1))
        .filter((i) => i >= 0);
      assert.equal(progressAt.length, 3);
      assert.ok(progressAt.every((i) => i < responseAt), `progress at ${progressAt}, response at ${responseAt}`);
    });
  }

  test("progress without total or message carries only token and progress", async () => {
    const res = await c.call("bare", {}, { progressToken: "bare-1" });
    assert.deepEqual(res.result.content, [{ type: "text", text: "bare" }]);
    assert.deepEqual(take(c, isNote("notifications/progress")).map((f) => f.params), [
      { progressToken: "bare-1", progress: 0.5 },
      { progressToken: "bare-1", progress: 1 },
    ]);
  });

  test("without a progress token nothing is sent", async () => {
    const res = await c.call("work", { steps: 3 });
    assert.deepEqual(res.result.content, [{ type: "text", text: "did 3" }]);
    // The progress calls ran before the result was sent, so any frame they produced is queued by now.
    assert.deepEqual(c.frames.filter(isNote("notifications/progress")), []);
    const other = await c.call("work", { steps: 2 }, { other: "meta" });
    assert.equal(other.result.content[0].text, "did 2");
    assert.deepEqual(c.frames.filter(isNote("notifications/progress")), []);
  });

  test("a non-increasing progress value throws; the tool result says so", async () => {
    const res = await c.call("backwards", {}, { progressToken: "back" });
    assert.equal(res.result.isError, true);
    assert.match(res.result.content[0].text, /progress must increase/);
    assert.deepEqual(take(c, isNote("notifications/progress")).map((f) => f.params), [
      { progressToken: "back", progress: 2, total: 10 },
    ]);
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
    const { c } = await readyAs(h.url, "closer");
    c.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "hold", arguments: { key: "x" } } });
    c.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "hold", arguments: { key: "y" } } });
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

  const ALL = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } };
  const requestFor = (c: RawClient, method: string) => c.next((f) => f.method === method && f.id !== undefined);
  const reply = (c: RawClient, id: Frame["id"], result: Record<string, unknown>) =>
    c.send({ jsonrpc: "2.0", id, result });

  test("ctx.sample: the client reads the request and answers by id", async () => {
    const { c } = await readyAs(h.url, "sampler", ALL);
    const call = c.call("sample", { q: "what is 2+2?" });
    const req = await requestFor(c, "sampling/createMessage");
    assert.ok(typeof req.id === "string" || typeof req.id === "number");
    assert.deepEqual(req.params, samplingParams("what is 2+2?"));
    const answer = { role: "assistant", content: { type: "text", text: "4" }, model: "m-1", stopReason: "endTurn" };
    reply(c, req.id, answer);
    const res = await call;
    assert.equal(res.result.isError, undefined);
    assert.deepEqual(JSON.parse(res.result.content[0].text), answer);
    await c.close();
  });

  test("two outstanding requests answered in reverse order are routed by id", async () => {
    const { c } = await readyAs(h.url, "reverse", ALL);
    const call = c.call("sample_two");
    const r1 = await requestFor(c, "sampling/createMessage");
    const r2 = await requestFor(c, "sampling/createMessage");
    assert.notEqual(r1.id, r2.id);
    const textOf = (r: Frame) => (r.params!.messages as { content: { text: string } }[])[0].content.text;
    for (const r of [r2, r1]) {
      reply(c, r.id, { role: "assistant", content: { type: "text", text: `echo:${textOf(r)}` }, model: "m" });
    }
    const res = await call;
    assert.deepEqual(JSON.parse(res.result.content[0].text), [
      { type: "text", text: "echo:first" },
      { type: "text", text: "echo:second" },
    ]);
    await c.close();
  });

  test("a client error reply becomes the tool's error", async () => {
    const { c } = await readyAs(h.url, "refuser", ALL);
    const call = c.call("sample", { q: "no" });
    const req = await requestFor(c, "sampling/createMessage");
    c.send({ jsonrpc: "2.0", id: req.id, error: { code: -1, message: "user refused sampling" } });
    const res = await call;
    assert.equal(res.result.isError, true);
    assert.match(res.result.content[0].text, /user refused sampling/);
    await c.close();
  });

  test("ctx.elicit sends requestedSchema derived from the zod object, mode form on 2025-11-25", async () => {
    const { c } = await readyAs(h.url, "elicit-schema", ALL);
    const call = c.call("ask");
    const req = await requestFor(c, "elicitation/create");
    assert.deepEqual(req.params, {
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
    });
    reply(c, req.id, { action: "accept", content: { name: "Ada", age: 36, admin: true, color: "red", extra: "x" } });
    const res = await call;
    assert.equal(res.result.isError, undefined);
    // The tool sees the validated (typed) value, not the raw answer.
    assert.deepEqual(JSON.parse(res.result.content[0].text), {
      content: { name: "Ada", age: 36, admin: true, color: "red" },
      nextAge: 37,
      ageType: "number",
    });
    await c.close();
  });

  test("accepted content that fails the schema makes the tool report an error", async () => {
    const { c } = await readyAs(h.url, "elicit-bad", ALL);
    const call = c.call("ask");
    const req = await requestFor(c, "elicitation/create");
    reply(c, req.id, { action: "accept", content: { name: "Ada", age: "old", admin: true, color: "blue" } });
    const res = await call;
    assert.equal(res.result.isError, true);
    assert.match(res.result.content[0].text, /age/);
    assert.match(res.result.content[0].text, /color/);
    await c.close();
  });

  test("decline and cancel pass through", async () => {
    const { c } = await readyAs(h.url, "elicit-no", ALL);
    for (const action of ["decline", "cancel"]) {
      const call = c.call("ask");
      const req = await requestFor(c, "elicitation/create");
      reply(c, req.id, { action });
      const res = await call;
      assert.equal(res.result.isError, undefined);
      assert.deepEqual(JSON.parse(res.result.content[0].text), { action });
    }
    await c.close();
  });

  test("a 2025-06-18 session gets elicitation without mode", async () => {
    const { c } = await readyAs(h.url, "elicit-old", { elicitation: {} }, "2025-06-18");
    const call = c.call("ask");
    const req = await requestFor(c, "elicitation/create");
    assert.equal("mode" in req.params!, false);
    assert.equal(req.params!.message, "Who are you?");
    assert.equal((req.params!.requestedSchema as { type: string }).type, "object");
    reply(c, req.id, { action: "decline" });
    assert.deepEqual(JSON.parse((await call).result.content[0].text), { action: "decline" });
    await c.close();
  });

  test("ctx.listRoots: the client answers roots/list", async () => {
    const { c } = await readyAs(h.url, "rooter", ALL);
    const call = c.call("roots");
    const req = await requestFor(c, "roots/list");
    const roots = [{ uri: "file:///work", name: "work" }, { uri: "file:///tmp" }];
    reply(c, req.id, { roots });
    const res = await call;
    assert.deepEqual(JSON.parse(res.result.content[0].text), roots);
    await c.close();
  });

  test("a missing capability gives an error naming it, and no request is sent", async () => {
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
    const { c } = await readyAs(h2.url, "slow-roots", ALL);
    const call = c.call("roots");
    const req = await requestFor(c, "roots/list");
    const res = await call;
    assert.equal(res.result.isError, true);
    assert.match(res.result.content[0].text, /Request timed out: the client did not answer roots\/list within 200 ms/);
    const cancelled = await c.notification("notifications/cancelled");
    assert.equal(cancelled.params?.requestId, req.id);
    await c.close();
    await h2.close({ timeout: 100 });
  });

  test("cancelling the tool call cancels its outstanding client request", async () => {
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
    const { c } = await readyAs(h.url, "roots-changer", ALL);
    rootsChanged.length = 0;
    rootsWaiter = deferred<void>();
    c.send({ jsonrpc: "2.0", method: "notifications/roots/list_changed" });
    await within(rootsWaiter.promise, "onRootsListChanged");
    assert.equal(rootsChanged.length, 1);
    assert.equal(rootsChanged[0], sessionNamed(server, "roots-changer"));
    await c.close();
  });
});

// ---------------------------------------------------------------------------

describe("list_changed", () => {
  async function setup() {
    const server = newServer();
    server.tool("t0", {}, () => "t0");
    server.resource("mem://r0", {}, () => "r0");
    server.prompt("p0", {}, () => "p0");
    const h = start(server);
    const a = await readyAs(h.url, "lc-a");
    const b = (await readyAs(h.url, "lc-b")).c;
    const u = await RawClient.connect(h.url); // connected, never initialized
    return {
      server,
      init: a.init,
      a: a.c,
      b,
      u,
      async close() {
        for (const c of [a.c, b, u]) await c.close();
        await h.close({ timeout: 100 });
      },
    };
  }
  const toolNames = async (c: RawClient) =>
    (await c.request("tools/list")).result.tools.map((t: { name: string }) => t.name).sort();

  test("capabilities carry listChanged: true", async () => {
    const env = await setup();
    assert.deepEqual(env.init.capabilities.tools, { listChanged: true });
    assert.deepEqual(env.init.capabilities.prompts, { listChanged: true });
    assert.equal(env.init.capabilities.resources.listChanged, true);
    await env.close();
  });

  for (const kind of ["tools", "resources", "prompts"] as const) {
    test(`registering a ${kind.slice(0, -1)} notifies every initialized session, not an uninitialized one`, async () => {
      const env = await setup();
      if (kind === "tools") env.server.tool("t1", {}, () => "t1");
      if (kind === "resources") env.server.resource("mem://r1", {}, () => "r1");
      if (kind === "prompts") env.server.prompt("p1", {}, () => "p1");
      const method = `notifications/${kind}/list_changed`;
      for (const c of [env.a, env.b]) {
        const note = await c.notification(method);
        assert.equal(note.params, undefined);
        await assertNothing(c, (f) => /list_changed$/.test(f.method ?? ""), `exactly one ${method}, no other kind`);
      }
      await assertNothing(env.u, (f) => /list_changed$/.test(f.method ?? ""), "the uninitialized client got nothing");
      const list = await env.a.request(`${kind}/list`);
      const names = list.result[kind].map((x: { name: string }) => x.name);
      assert.ok(names.includes(kind === "tools" ? "t1" : kind === "prompts" ? "p1" : "mem://r1"), names.join());
      await env.close();
    });
  }

  test("disable, enable and remove each notify and change tools/list; a disabled tool gives -32602", async () => {
    const env = await setup();
    const handle = env.server.tool("t2", {}, () => "t2");
    const note = "notifications/tools/list_changed";
    await env.a.notification(note);
    await env.b.notification(note);
    assert.deepEqual(await toolNames(env.a), ["t0", "t2"]);

    handle.disable();
    assert.equal(handle.enabled, false);
    await env.a.notification(note);
    await env.b.notification(note);
    assert.deepEqual(await toolNames(env.a), ["t0"]);
    const disabled = await env.a.call("t2");
    assert.equal(disabled.error?.code, ErrorCode.InvalidParams);

    handle.enable();
    await env.a.notification(note);
    await env.b.notification(note);
    assert.deepEqual(await toolNames(env.a), ["t0", "t2"]);
    assert.equal((await env.a.call("t2")).result.content[0].text, "t2");

    handle.remove();
    await env.a.notification(note);
    await env.b.notification(note);
    assert.deepEqual(await toolNames(env.a), ["t0"]);
    assert.equal((await env.a.call("t2")).error?.code, ErrorCode.InvalidParams);
    await assertNothing(env.a, isNote(note), "one notification per change");
    await assertNothing(env.u, isNote(note), "the uninitialized client got nothing");
    await env.close();
  });

  test("disabling a resource and a prompt notifies and hides them", async () => {
    const env = await setup();
    const r = env.server.resource("mem://r2", {}, () => "r2");
    const p = env.server.prompt("p2", {}, () => "p2");
    await env.a.notification("notifications/resources/list_changed");
    await env.a.notification("notifications/prompts/list_changed");
    r.disable();
    p.disable();
    await env.a.notification("notifications/resources/list_changed");
    await env.a.notification("notifications/prompts/list_changed");
    const resources = (await env.a.request("resources/list")).result.resources.map((x: { uri: string }) => x.uri);
    assert.deepEqual(resources, ["mem://r0"]);
    const prompts = (await env.a.request("prompts/list")).result.prompts.map((x: { name: string }) => x.name);
    assert.deepEqual(prompts, ["p0"]);
    assert.equal((await env.a.request("resources/read", { uri: "mem://r2" })).error?.code, -32002);
    assert.equal((await env.a.request("prompts/get", { name: "p2" })).error?.code, ErrorCode.InvalidParams);
    await env.close();
  });

  test("a burst of 5 registrations in one tick sends one notification per kind", async () => {
    const env = await setup();
    for (let i = 0; i < 5; i++) {
      env.server.tool(`burst${i}`, {}, () => "b");
      env.server.prompt(`burst${i}`, {}, () => "b");
    }
    for (const c of [env.a, env.b]) {
      await c.request("ping");
      const changes = take(c, (f) => /list_changed$/.test(f.method ?? "")).map((f) => f.method).sort();
      assert.deepEqual(changes, ["notifications/prompts/list_changed", "notifications/tools/list_changed"]);
    }
    assert.equal((await toolNames(env.a)).length, 6);
    await env.close();
  });
});

// ---------------------------------------------------------------------------

describe("Pagination", () => {
  let h: ServeHandle;
  let c: RawClient;

  before(async () => {
    const server = newServer({ pageSize: 2 });
    for (let i = 1; i <= 5; i++) {
      server.tool(`tool${i}`, {}, () => "x");
      server.prompt(`prompt${i}`, {}, () => "x");
      server.resource(`mem://res${i}`, {}, () => "x");
    }
    for (let i = 1; i <= 3; i++) server.resourceTemplate(`tpl${i}://{x}`, {}, () => "x");
    h = start(server);
    c = (await readyAs(h.url, "pager")).c;
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  async function walk(method: string, field: string, key: string): Promise<{ pages: string[][]; cursors: string[] }> {
    const pages: string[][] = [];
    const cursors: string[] = [];
    let cursor: string | undefined;
    for (let n = 0; n < 10; n++) {
      const res = await c.request(method, cursor === undefined ? {} : { cursor });
      assert.equal(res.error, undefined, JSON.stringify(res.error));
      pages.push(res.result[field].map((x: Record<string, string>) => x[key]));
      if (!("nextCursor" in res.result)) return { pages, cursors };
      assert.equal(typeof res.result.nextCursor, "string");
      cursor = res.result.nextCursor;
      cursors.push(cursor!);
    }
    throw new Error(`${method} did not end within 10 pages`);
  }

  const cases: [string, string, string, string[]][] = [
    ["tools/list", "tools", "name", [1, 2, 3, 4, 5].map((i) => `tool${i}`)],
    ["prompts/list", "prompts", "name", [1, 2, 3, 4, 5].map((i) => `prompt${i}`)],
    ["resources/list", "resources", "uri", [1, 2, 3, 4, 5].map((i) => `mem://res${i}`)],
  ];
  for (const [method, field, key, all] of cases) {
    test(`${method}: 3 pages of at most 2, no nextCursor on the last, every item once`, async () => {
      const { pages, cursors } = await walk(method, field, key);
      assert.equal(pages.length, 3);
      assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
      assert.equal(cursors.length, 2);
      assert.deepEqual(pages.flat().sort(), [...all].sort());
    });
  }

  test("resources/templates/list pages too", async () => {
    const { pages } = await walk("resources/templates/list", "resourceTemplates", "uriTemplate");
    assert.deepEqual(pages.map((p) => p.length), [2, 1]);
    assert.deepEqual(pages.flat().sort(), ["tpl1://{x}", "tpl2://{x}", "tpl3://{x}"]);
  });

  test("a garbage cursor, another list's cursor and a non-string cursor give -32602", async () => {
    const toolsCursor = (await c.request("tools/list")).result.nextCursor as string;
    const promptsCursor = (await c.request("prompts/list")).result.nextCursor as string;
    const resourcesCursor = (await c.request("resources/list")).result.nextCursor as string;
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
    for (const [method, cursor] of bad) {
      const res = await c.request(method, { cursor });
      assert.equal(res.error?.code, ErrorCode.InvalidParams, `${method} with cursor ${JSON.stringify(cursor)}`);
    }
    // The genuine cursor still works.
    const page2 = await c.request("tools/list", { cursor: toolsCursor });
    assert.equal(page2.result.tools.length, 2);
  });
});

// ---------------------------------------------------------------------------

describe("Tool metadata", () => {
  let h: ServeHandle;
  let c: RawClient;
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
    c = (await readyAs(h.url, "meta")).c;
  });
  after(async () => {
    await c.close();
    await h.close({ timeout: 100 });
  });

  test("title, annotations, icons and _meta appear in tools/list", async () => {
    const res = await c.request("tools/list");
    const fancy = res.result.tools.find((t: { name: string }) => t.name === "fancy");
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
    const plain = res.result.tools.find((t: { name: string }) => t.name === "content");
    for (const key of ["title", "annotations", "icons", "_meta"]) assert.equal(key in plain, false, key);
  });

  test("text, image, audio, resource_link and embedded resource content pass through", async () => {
    const res = await c.call("content");
    assert.deepEqual(res.result, { content: blocks });
    const one = await c.call("one_block");
    assert.deepEqual(one.result, { content: [blocks[3]] });
  });
});
