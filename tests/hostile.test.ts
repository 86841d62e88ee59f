// Bad input over real sockets: every case gets a clear JSON-RPC error or a close
// code, and an observer client, connected and initialized throughout, keeps
// getting correct answers after each one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { z } from "zod";
import { ErrorCode, McpServer, type ServeHandle } from "../mod.ts";
import { encodeFrame } from "../bench/ws_frames.ts";
import { type Frame, NetWsClient, RawClient, start, waitFor } from "./testdata/helpers.ts";

// 1.5 MiB: a 1 MB argument fits, and oversized frames stay cheap to send.
const LIMIT = 1_572_864;

const INIT = (version = "2025-11-25") => ({
  protocolVersion: version,
  capabilities: {},
  clientInfo: { name: "hostile", version: "1" },
});

describe("hostile input", () => {
  let server: McpServer;
  let h: ServeHandle;
  let obs: RawClient;
  let checks = 0;
  const gates: (() => void)[] = [];
  const release = () => {
    for (const g of gates.splice(0)) g();
  };

  before(async () => {
    server = new McpServer({ name: "hostile", version: "1.0.0" });
    server.tool("echo", { input: z.object({ text: z.string() }) }, ({ text }) => text);
    server.tool("add", { input: z.object({ a: z.number(), b: z.number() }) }, ({ a, b }) => String(a + b));
    // No input schema: the handler sees the arguments exactly as parsed.
    server.tool("inspect", {}, (args, ctx) => ({
      keys: Object.keys(args).sort(),
      plainPrototype: Object.getPrototypeOf(args) === Object.prototype,
      polluted: (({}) as Record<string, unknown>).polluted ?? null,
      sampling: Boolean(ctx.session.clientCapabilities.sampling),
    }));
    // Runs until the test releases it (or it is cancelled).
    server.tool("gate", {}, (_args, ctx) =>
      new Promise<string>((resolve) => {
        gates.push(() => resolve("released"));
        ctx.signal.addEventListener("abort", () => resolve("aborted"), { once: true });
      }));
    server.resource("file:///a.txt", { mimeType: "text/plain" }, () => "A");
    server.resourceTemplate("users://{id}", {}, (_uri, { id }) => `user ${id}`);
    server.prompt("greet", {
      args: z.object({ name: z.string() }),
      complete: { name: (v) => ["Ada", "Alan"].filter((n) => n.startsWith(v)) },
    }, ({ name }) => `Hello, ${name}!`);
    h = start(server, { maxMessageBytes: LIMIT });
    obs = await RawClient.ready(h.url);
  });

  after(async () => {
    release();
    await obs.close();
    await h.close({ timeout: 100 });
  });

  /** The observer still gets a correct echo, saw nothing meant for others, and no hostile session is left over. */
  async function healthy(): Promise<void> {
    const text = `still here ${++checks}`;
    const res = await obs.call("echo", { text });
    assert.deepEqual(res.result, { content: [{ type: "text", text }] }, "the observer's echo");
    assert.deepEqual(obs.frames, [], "the observer received frames it did not ask for");
    await waitFor(() => server.sessions.size === 1, "only the observer's session to remain");
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype was polluted");
  }

  // Every client a case opens is closed after it, pass or fail, so one failure does not cascade.
  const opened: { close(): Promise<void> }[] = [];
  const newReady = async (version?: string, caps: Record<string, unknown> = {}) => {
    const c = await RawClient.ready(h.url, caps, version);
    opened.push(c);
    return c;
  };
  const newRaw = async () => {
    const c = await RawClient.connect(h.url);
    opened.push(c);
    return c;
  };
  const newNet = async () => {
    const c = await NetWsClient.open(h.url);
    opened.push(c);
    return c;
  };

  /** A test case: cleans up after itself, then checks that the observer is unaffected. */
  function hostile(name: string, body: () => Promise<void>): void {
    test(name, { timeout: 30_000 }, async () => {
      try {
        await body();
      } finally {
        release();
        await Promise.all(opened.splice(0).map((c) => c.close()));
      }
      await healthy();
    });
  }

  /** Sends a raw text frame and returns the next frame, which must be an error with this code. */
  async function expectError(c: RawClient, text: string, code: number, id: string | number | null = null) {
    c.send(text);
    const res = await c.next().catch((e) => {
      throw new Error(`no answer to ${JSON.stringify(text.slice(0, 200))}: ${e.message}`);
    });
    assert.equal(res.error?.code, code, `${text.slice(0, 200)} -> ${JSON.stringify(res).slice(0, 300)}`);
    assert.equal(res.id, id, `id of the answer to ${text.slice(0, 200)}`);
    assert.equal(typeof res.error!.message, "string");
    assert.ok(res.error!.message.length > 0);
    assert.doesNotMatch(res.error!.message, /\n\s+at /, "no stack trace");
    return res;
  }

  /** A ping round trip, then nothing else may be queued: whatever came before it was not answered. */
  async function nothingElse(c: RawClient, what: string): Promise<void> {
    const id = `fence-${crypto.randomUUID()}`;
    const pong = await c.request("ping", undefined, id);
    assert.deepEqual(pong.result, {});
    assert.deepEqual(c.frames, [], `${what} must get no answer`);
  }

  hostile("invalid UTF-8 in a text frame fails the connection (1007 or TCP close)", async () => {
    const payloads = [
      [0xff, 0xfe],
      [0x7b, 0xc0, 0xaf, 0x7d], // overlong "/"
      [0x22, 0xed, 0xa0, 0x80, 0x22], // a UTF-16 surrogate encoded as UTF-8
      [0x22, 0xe2, 0x82, 0x22], // truncated 3-byte sequence
      [0x22, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x22], // 5-byte form
    ];
    for (const bytes of payloads) {
      const c = await newNet();
      c.sendText('{"jsonrpc":"2.0","id":1,"method":"ping"}');
      assert.deepEqual(JSON.parse(await c.next()), { jsonrpc: "2.0", id: 1, result: {} });
      c.sendText(new Uint8Array(bytes));
      c.sendText('{"jsonrpc":"2.0","id":2,"method":"ping"}');
      await c.waitEnded();
      assert.ok(c.closeCode === undefined || c.closeCode === 1007, `close code ${c.closeCode} for ${bytes}`);
      assert.deepEqual(c.texts, [], `no answer after invalid UTF-8 ${bytes}`);
    }
  });

  hostile("invalid UTF-8 split across fragments: the connection fails, or the message is a parse error", async () => {
    const c = await newNet();
    c.sendFrame(0x1, new Uint8Array([0x7b, 0x22, 0xe2]), false);
    c.sendFrame(0x0, new Uint8Array([0x82]), true); // "€" needs a third byte
    c.sendText('{"jsonrpc":"2.0","id":2,"method":"ping"}');
    const first = await Promise.race([c.next(), c.ended.then(() => undefined)]);
    if (first === undefined) {
      assert.ok(c.closeCode === undefined || c.closeCode === 1007, `close code ${c.closeCode}`);
    } else {
      // The runtime replaced the bad bytes with U+FFFD: the message is then not JSON.
      assert.equal(JSON.parse(first).error?.code, ErrorCode.ParseError, first);
      assert.deepEqual(JSON.parse(await c.next()), { jsonrpc: "2.0", id: 2, result: {} });
      await c.close();
    }
  });

  hostile("a valid message split into fragments (inside a UTF-8 sequence, around a ping) is answered", async () => {
    const c = await newNet();
    c.sendText(JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: INIT() }));
    assert.equal(JSON.parse(await c.next()).result.protocolVersion, "2025-11-25");
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "echo", arguments: { text: "€ü" } },
      }),
    );
    const cut = bytes.indexOf(0xe2) + 1;
    c.sendFrame(0x1, bytes.subarray(0, cut), false);
    c.sendFrame(0x9, new Uint8Array([1, 2, 3])); // a control frame between fragments is allowed
    c.sendFrame(0x0, bytes.subarray(cut, cut + 1), false);
    c.sendFrame(0x0, bytes.subarray(cut + 1), true);
    assert.deepEqual(JSON.parse(await c.next()).result, { content: [{ type: "text", text: "€ü" }] });
    await c.close();
  });

  hostile("truncated or malformed JSON gets -32700 with id null", async () => {
    const c = await newReady();
    const full = JSON.stringify({
      jsonrpc: "2.0",
      id: 5,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "x" } },
    });
    const cuts = [1, 2, 10, 20, full.indexOf('"method"'), full.length - 30, full.length - 2, full.length - 1];
    for (const n of cuts) await expectError(c, full.slice(0, n), ErrorCode.ParseError);
    for (
      const bad of [
        "",
        " ",
        "nul",
        "tru",
        '"unterminated',
        "{'jsonrpc':'2.0'}",
        '{"jsonrpc":"2.0","id":1,"method":"ping",}',
        '{"jsonrpc":"2.0","id":1,"method":"ping"}x',
        '{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"ping"}',
        '{"jsonrpc":"2.0","id":01,"method":"ping"}',
        '{"jsonrpc":"2.0","id":NaN,"method":"ping"}',
        '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":"\\x41"}}',
        "\u0000",
      ]
    ) await expectError(c, bad, ErrorCode.ParseError);
    // Still usable afterwards.
    assert.deepEqual((await c.call("echo", { text: "ok" })).result.content[0].text, "ok");
    await c.close();
  });

  hostile("100,000 levels of nesting: -32700 when unclosed, -32600 when closed, and never a crash", async () => {
    const N = 100_000;
    const c = await newReady();
    await expectError(c, "[".repeat(N), ErrorCode.ParseError);
    await expectError(c, '{"a":'.repeat(N), ErrorCode.ParseError);
    // Closed: valid JSON, but not a request (and batches are not allowed in 2025-11-25).
    await expectError(c, "[".repeat(N) + "]".repeat(N), ErrorCode.InvalidRequest);
    await expectError(c, '{"a":'.repeat(N) + "1" + "}".repeat(N), ErrorCode.InvalidRequest);
    // Deep values inside an otherwise valid request.
    const deepArr = "[".repeat(N) + "]".repeat(N);
    const deepObj = '{"a":'.repeat(N) + "1" + "}".repeat(N);
    c.send(
      `{"jsonrpc":"2.0","id":"d1","method":"tools/call","params":{"name":"echo","arguments":{"text":${deepArr}}}}`,
    );
    const d1 = await c.next((f) => f.id === "d1");
    assert.equal(d1.result?.isError, true, JSON.stringify(d1).slice(0, 300));
    c.send(`{"jsonrpc":"2.0","id":"d2","method":"tools/call","params":{"name":"echo","arguments":${deepObj}}}`);
    const d2 = await c.next((f) => f.id === "d2");
    assert.equal(d2.result?.isError, true, JSON.stringify(d2).slice(0, 300));
    c.send(`{"jsonrpc":"2.0","id":"d3","method":"ping","params":{"_meta":${deepObj}}}`);
    assert.deepEqual((await c.next((f) => f.id === "d3")).result, {});
    // A deep value where a name belongs is an unknown tool / prompt, not an internal error.
    c.send(`{"jsonrpc":"2.0","id":"d4","method":"tools/call","params":{"name":${deepArr}}}`);
    const d4 = await c.next((f) => f.id === "d4");
    assert.equal(d4.error?.code, ErrorCode.InvalidParams, JSON.stringify(d4).slice(0, 300));
    c.send(`{"jsonrpc":"2.0","id":"d5","method":"prompts/get","params":{"name":${deepObj}}}`);
    const d5 = await c.next((f) => f.id === "d5");
    assert.equal(d5.error?.code, ErrorCode.InvalidParams, JSON.stringify(d5).slice(0, 300));
    await c.close();

    // Under 2025-03-26 a deep array is a batch of one invalid entry.
    const old = await newReady("2025-03-26");
    old.send("[" + "[".repeat(N) + "]".repeat(N) + "]");
    const batch = await old.next() as unknown as Frame[];
    assert.ok(Array.isArray(batch), JSON.stringify(batch).slice(0, 300));
    assert.equal(batch.length, 1);
    assert.equal(batch[0].error?.code, ErrorCode.InvalidRequest);
    await old.close();
  });

  hostile("huge numbers and a 1 MB string argument", async () => {
    const c = await newReady();
    for (const id of ["1e400", "-1e400", "123456789012345678901234567890", "9007199254740993", "1e300"]) {
      await expectError(c, `{"jsonrpc":"2.0","id":${id},"method":"ping"}`, ErrorCode.InvalidRequest);
    }
    // 1e400 parses as Infinity, which is not a number a schema accepts.
    c.send('{"jsonrpc":"2.0","id":"inf","method":"tools/call","params":{"name":"add","arguments":{"a":1e400,"b":1}}}');
    const inf = await c.next((f) => f.id === "inf");
    assert.equal(inf.result?.isError, true, JSON.stringify(inf));
    // A 30-digit integer is a finite double.
    c.send(
      '{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"add","arguments":{"a":123456789012345678901234567890,"b":0}}}',
    );
    const big = await c.next((f) => f.id === "big");
    assert.equal(big.result?.content[0].text, String(123456789012345678901234567890 + 0));
    c.send(
      '{"jsonrpc":"2.0","id":"tiny","method":"tools/call","params":{"name":"add","arguments":{"a":1e-400,"b":-0}}}',
    );
    assert.equal((await c.next((f) => f.id === "tiny")).result?.content[0].text, "0");
    // An id written with an exponent is still the integer 1000.
    c.send('{"jsonrpc":"2.0","id":1e3,"method":"ping"}');
    assert.deepEqual(await c.next(), { jsonrpc: "2.0", id: 1000, result: {} });

    const mb = "x".repeat(1 << 20);
    const res = await c.call("echo", { text: mb });
    assert.equal(res.result.content[0].text.length, mb.length);
    assert.equal(res.result.content[0].text, mb);
    const wide = "é€😀".repeat(100_000); // 900,000 bytes of UTF-8
    assert.equal((await c.call("echo", { text: wide })).result.content[0].text, wide);
    await c.close();
  });

  hostile("__proto__, constructor and prototype keys pollute nothing", async () => {
    const c = await newReady();
    const evil = '{"polluted":1,"sampling":{}}';
    // Hand-written: JSON.stringify never emits a "__proto__" key.
    c.send(
      `{"__proto__":${evil},"jsonrpc":"2.0","id":"p1","method":"tools/call","params":{"__proto__":${evil},` +
        `"name":"inspect","arguments":{"__proto__":${evil},"constructor":{"prototype":${evil}},"prototype":${evil},"x":1}}}`,
    );
    const p1 = await c.next((f) => f.id === "p1");
    assert.deepEqual(p1.result?.structuredContent, {
      keys: ["__proto__", "constructor", "prototype", "x"],
      plainPrototype: true,
      polluted: null,
      sampling: false,
    });
    c.send(
      `{"jsonrpc":"2.0","id":"p2","method":"tools/call","params":{"name":"echo","arguments":{"text":"mine","__proto__":{"text":"evil"}}}}`,
    );
    assert.deepEqual((await c.next((f) => f.id === "p2")).result, { content: [{ type: "text", text: "mine" }] });
    c.send(
      `{"jsonrpc":"2.0","id":"p3","method":"tools/call","params":{"name":"echo","arguments":{"__proto__":{"text":"evil"}}}}`,
    );
    assert.equal(
      (await c.next((f) => f.id === "p3")).result?.isError,
      true,
      "text is missing: __proto__ is not a fallback",
    );
    c.send(
      `{"jsonrpc":"2.0","id":"p4","method":"prompts/get","params":{"name":"greet","arguments":{"__proto__":{"name":"evil"}}}}`,
    );
    assert.equal((await c.next((f) => f.id === "p4")).error?.code, ErrorCode.InvalidParams);
    c.send(
      `{"jsonrpc":"2.0","id":"p5","method":"prompts/get","params":{"name":"greet","arguments":{"name":"Ada","__proto__":${evil}}}}`,
    );
    assert.equal((await c.next((f) => f.id === "p5")).result?.messages[0].content.text, "Hello, Ada!");

    const names = [
      "__proto__",
      "constructor",
      "prototype",
      "toString",
      "hasOwnProperty",
      "valueOf",
      "__defineGetter__",
    ];
    for (const name of names) {
      assert.equal((await c.request(name, {})).error?.code, ErrorCode.MethodNotFound, `method ${name}`);
      assert.equal((await c.call(name)).error?.code, ErrorCode.InvalidParams, `tool ${name}`);
      assert.equal((await c.request("prompts/get", { name })).error?.code, ErrorCode.InvalidParams, `prompt ${name}`);
      assert.equal(
        (await c.request("resources/read", { uri: name })).error?.code,
        ErrorCode.ResourceNotFound,
        `uri ${name}`,
      );
      assert.equal((await c.request("logging/setLevel", { level: name })).error?.code, ErrorCode.InvalidParams, name);
      // A completer is looked up by argument name: an inherited property is no completer.
      const done = await c.request("completion/complete", {
        ref: { type: "ref/prompt", name: "greet" },
        argument: { name, value: "A" },
      });
      assert.deepEqual(done.result?.completion?.values, [], `completion of argument ${name}: ${JSON.stringify(done)}`);
      c.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: name } });
    }
    // Inherited capabilities are no capabilities.
    const c2 = await newRaw();
    c2.send(
      `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",` +
        `"capabilities":{"__proto__":{"sampling":{}}},"clientInfo":{"__proto__":${evil},"name":"x","version":"1"}}}`,
    );
    assert.equal((await c2.next()).result?.protocolVersion, "2025-11-25");
    assert.equal((await c2.call("inspect")).result?.structuredContent?.sampling, false);
    await c2.close();

    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false);
    assert.equal((Object as unknown as Record<string, unknown>).polluted, undefined);
    assert.equal((await c.call("echo", { text: "after" })).result.content[0].text, "after");
    await c.close();
  });

  hostile("ids of the wrong type, and null, get -32600 with id null", async () => {
    const c = await newReady();
    for (const id of ["{}", '{"a":1}', "[]", "[1]", "true", "false", "1.5", "-0.5", "null"]) {
      const res = await expectError(c, `{"jsonrpc":"2.0","id":${id},"method":"ping"}`, ErrorCode.InvalidRequest);
      assert.match(res.error!.message, /id/, `message for id ${id}`);
      await expectError(
        c,
        `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}`,
        ErrorCode.InvalidRequest,
      );
    }
    await c.close();
  });

  hostile("a missing or non-string method, or a wrong jsonrpc, gets -32600", async () => {
    const c = await newReady();
    await expectError(c, '{"jsonrpc":"2.0","id":7}', ErrorCode.InvalidRequest, 7);
    await expectError(c, '{"jsonrpc":"2.0","id":"s","params":{}}', ErrorCode.InvalidRequest, "s");
    for (const m of ["42", "null", "{}", '["ping"]', "true"]) {
      await expectError(c, `{"jsonrpc":"2.0","id":8,"method":${m}}`, ErrorCode.InvalidRequest, 8);
    }
    for (const j of ['"1.0"', "2", "2.0", "null", '"2.0 "']) {
      await expectError(c, `{"jsonrpc":${j},"id":9,"method":"ping"}`, ErrorCode.InvalidRequest, 9);
    }
    await expectError(c, '{"id":10,"method":"ping"}', ErrorCode.InvalidRequest, 10);
    await expectError(c, '{"jsonrpc":"2.0"}', ErrorCode.InvalidRequest);
    await expectError(c, "{}", ErrorCode.InvalidRequest);
    // A method that is a string but empty or unknown is "not found", not invalid.
    await expectError(c, '{"jsonrpc":"2.0","id":11,"method":""}', ErrorCode.MethodNotFound, 11);
    await c.close();
  });

  hostile("JSON that is not an object (a number, a string, true, false, null) gets -32600 with id null", async () => {
    const c = await newReady();
    for (const v of ["42", '"ping"', "true", "false", "null", " null "]) {
      await expectError(c, v, ErrorCode.InvalidRequest);
    }
    assert.equal((await c.call("echo", { text: "still fine" })).result.content[0].text, "still fine");
  });

  hostile("a second request with the id of one in flight gets an error; the first is still answered", async () => {
    const c = await newReady();
    const gate = { jsonrpc: "2.0", id: "dup", method: "tools/call", params: { name: "gate", arguments: {} } };
    c.send(gate);
    c.send(gate);
    const second = await c.next((f) => f.id === "dup");
    assert.equal(second.error?.code, ErrorCode.InvalidRequest, JSON.stringify(second));
    assert.match(second.error!.message, /in flight/);
    assert.equal(gates.length, 1, "the duplicate must not run");
    // Same value, different type: 5 and "5" are different ids.
    c.send({ ...gate, id: 5 });
    c.send({ ...gate, id: "5" });
    await waitFor(() => gates.length === 3, "three gated calls to run");
    release();
    const answers = [
      await c.next((f) => f.id === "dup"),
      await c.next((f) => f.id === 5),
      await c.next((f) => f.id === "5"),
    ];
    for (const a of answers) assert.deepEqual(a.result, { content: [{ type: "text", text: "released" }] });
    // Once answered, the id may be used again.
    assert.equal(
      (await c.request("tools/call", { name: "echo", arguments: { text: "again" } }, "dup")).result.content[0].text,
      "again",
    );
    await nothingElse(c, "the duplicate");
    await c.close();
  });

  hostile("responses with unknown ids, and id-less error responses, are ignored", async () => {
    const c = await newReady();
    c.send({ jsonrpc: "2.0", id: 424242, result: {} });
    c.send({ jsonrpc: "2.0", id: "nope", result: { x: 1 } });
    c.send({ jsonrpc: "2.0", id: 1, error: { code: -32601, message: "no" } });
    c.send({ jsonrpc: "2.0", id: "x", result: {}, error: { code: 1, message: "both" } });
    // An error response whose id the peer could not read (JSON-RPC: id null; MCP 2025-11-25: id omitted).
    // Answering it would let two peers bounce errors at each other forever.
    c.send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
    c.send({ jsonrpc: "2.0", error: { code: -32600, message: "Invalid Request" } });
    await nothingElse(c, "a response");
    await c.close();
  });

  hostile("batches: refused in 2025-11-25 and 2025-06-18, processed in 2025-03-26", async () => {
    for (const version of ["2025-11-25", "2025-06-18"]) {
      const c = await newReady(version);
      await expectError(c, JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "ping" }]), ErrorCode.InvalidRequest);
      await expectError(c, JSON.stringify([{ jsonrpc: "2.0", method: "notifications/x" }]), ErrorCode.InvalidRequest);
      await expectError(c, "[]", ErrorCode.InvalidRequest);
      await nothingElse(c, `the ${version} batch`);
      await c.close();
    }
    const c = await newReady("2025-03-26");
    c.send([
      { jsonrpc: "2.0", id: "b1", method: "ping" },
      { jsonrpc: "2.0", method: "notifications/whatever" },
      { jsonrpc: "2.0", id: "b2", method: "tools/call", params: { name: "echo", arguments: { text: "in a batch" } } },
      { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "none" } },
      { jsonrpc: "2.0", id: "b3", method: "no/such" },
    ]);
    const out = await c.next() as unknown as Frame[];
    assert.ok(Array.isArray(out), JSON.stringify(out));
    const byId = new Map(out.map((f) => [f.id, f]));
    assert.equal(out.length, 3, "notifications produce no entry");
    assert.deepEqual(byId.get("b1")?.result, {});
    assert.deepEqual(byId.get("b2")?.result, { content: [{ type: "text", text: "in a batch" }] });
    assert.equal(byId.get("b3")?.error?.code, ErrorCode.MethodNotFound);
    // Invalid entries each get an error.
    c.send("[1,2]");
    const invalid = await c.next() as unknown as Frame[];
    assert.equal(invalid.length, 2);
    for (const e of invalid) (assert.equal(e.error?.code, ErrorCode.InvalidRequest), assert.equal(e.id, null));
    // An empty batch is one error, not an array.
    await expectError(c, "[]", ErrorCode.InvalidRequest);
    // initialize inside a batch is refused; the rest of the batch is served.
    c.send([{ jsonrpc: "2.0", id: "i1", method: "initialize", params: INIT("2025-03-26") }, {
      jsonrpc: "2.0",
      id: "i2",
      method: "ping",
    }]);
    const withInit = await c.next() as unknown as Frame[];
    const init = withInit.find((f) => f.id === "i1");
    assert.equal(init?.error?.code, ErrorCode.InvalidRequest, JSON.stringify(withInit));
    assert.deepEqual(withInit.find((f) => f.id === "i2")?.result, {});
    // Only notifications: no reply at all.
    c.send([{ jsonrpc: "2.0", method: "notifications/a" }, { jsonrpc: "2.0", method: "notifications/b" }]);
    await nothingElse(c, "a batch of notifications");
    await c.close();

    // Before initialize, a batch is refused, and so is an initialize inside one.
    const fresh = await newRaw();
    await expectError(
      fresh,
      JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "initialize", params: INIT("2025-03-26") }]),
      ErrorCode.InvalidRequest,
    );
    assert.equal((await fresh.request("tools/list")).error?.code, ErrorCode.InvalidRequest, "still not initialized");
    await fresh.close();
  });

  hostile("requests before initialize get -32600 naming initialize; ping and notifications are fine", async () => {
    const c = await newRaw();
    for (const method of ["tools/list", "tools/call", "resources/read", "prompts/get", "logging/setLevel", "no/such"]) {
      const res = await c.request(method, {});
      assert.equal(res.error?.code, ErrorCode.InvalidRequest, method);
      assert.match(res.error!.message, /initialize/, method);
    }
    c.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    c.send({ jsonrpc: "2.0", id: 77, result: {} });
    await nothingElse(c, "a notification or response before initialize");
    // initialize with bad params fails without initializing; a good one then works.
    assert.equal((await c.request("initialize", {})).error?.code, ErrorCode.InvalidParams);
    assert.equal((await c.request("initialize", { protocolVersion: 5 })).error?.code, ErrorCode.InvalidParams);
    assert.equal((await c.request("tools/list")).error?.code, ErrorCode.InvalidRequest);
    assert.equal((await c.request("initialize", INIT())).result?.protocolVersion, "2025-11-25");
    assert.ok(Array.isArray((await c.request("tools/list")).result?.tools));
    await c.close();
  });

  hostile("a second initialize gets -32600 and changes nothing", async () => {
    const c = await newReady("2025-03-26");
    const again = await c.request("initialize", INIT("2025-11-25"));
    assert.equal(again.error?.code, ErrorCode.InvalidRequest);
    // Still 2025-03-26: batches are still accepted.
    c.send([{ jsonrpc: "2.0", id: "still", method: "ping" }]);
    assert.deepEqual(await c.next(), [{ jsonrpc: "2.0", id: "still", result: {} }] as unknown as Frame);
    await c.close();
  });

  hostile("a frame over maxMessageBytes closes with 1009; one at the limit is served", async () => {
    const ping = '{"jsonrpc":"2.0","id":"at-limit","method":"ping"}';
    const c = await newReady();
    c.send(ping + " ".repeat(LIMIT - ping.length));
    assert.deepEqual((await c.next()).result, {});
    c.send(ping + " ".repeat(LIMIT - ping.length + 1));
    assert.equal((await c.closed).code, 1009);

    // Under the limit in UTF-16 code units, over it in UTF-8 bytes.
    const c2 = await newReady();
    const text = "€".repeat(Math.ceil(LIMIT / 3));
    assert.ok(text.length < LIMIT);
    c2.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text } } });
    assert.equal((await c2.closed).code, 1009);

    // Fragments each under the limit, together over it.
    const c3 = await newNet();
    const body = new TextEncoder().encode(ping + " ".repeat(LIMIT));
    const half = body.length >> 1;
    c3.sendFrame(0x1, body.subarray(0, half), false);
    c3.sendFrame(0x0, body.subarray(half), true);
    await c3.waitEnded();
    assert.equal(c3.closeCode, 1009);
    assert.deepEqual(c3.texts, []);
  });

  hostile("a binary frame closes with 1003", async () => {
    const c = await newReady();
    c.ws.send(new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"ping"}'));
    assert.equal((await c.closed).code, 1003);
    const raw = await newNet();
    raw.sendFrame(0x2, new Uint8Array(0));
    await raw.waitEnded();
    assert.equal(raw.closeCode, 1003);
  });

  hostile("a flood of 5,000 pings is answered completely and in order", async () => {
    const N = 5000;
    const c = await newReady();
    for (let i = 0; i < N; i++) c.send({ jsonrpc: "2.0", id: `f${i}`, method: "ping" });
    await c.next((f) => f.id === `f${N - 1}`);
    const ids = c.frames.map((f) => f.id);
    c.frames = [];
    assert.equal(ids.length, N - 1);
    assert.ok(ids.every((id, i) => id === `f${i}`), "pings answered out of order");

    // The same as one TCP write of 5,000 frames.
    const raw = await newNet();
    const frames = Array.from({ length: N }, (_, i) => encodeFrame(0x1, `{"jsonrpc":"2.0","id":${i},"method":"ping"}`));
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    frames.reduce((off, f) => (all.set(f, off), off + f.length), 0);
    raw.write(all);
    await raw.next((t) => JSON.parse(t).id === N - 1);
    const rawIds = raw.texts.map((t) => JSON.parse(t).id);
    assert.equal(rawIds.length, N - 1);
    assert.ok(rawIds.every((id, i) => id === i), "pings answered out of order");
    await raw.close();
    await c.close();
  });

  hostile("connections that go quiet mid-upgrade, after it, or mid-frame block nobody", async () => {
    const idle = await newNet();
    const midFrame = await newNet();
    midFrame.write(encodeFrame(0x1, '{"jsonrpc":"2.0","id":1,"method":"ping"}').subarray(0, 9));
    const midHeader = await newNet();
    midHeader.write(new Uint8Array([0x81]));
    const halfHttp = connect({ host: "127.0.0.1", port: h.port });
    halfHttp.on("error", () => {});
    opened.push({ close: () => Promise.resolve(void halfHttp.destroy()) });
    await new Promise((r) => halfHttp.once("connect", r));
    halfHttp.write(`GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`);

    // Others connect, initialize and call tools while those wait.
    const c = await newReady();
    assert.equal((await c.call("echo", { text: "unblocked" })).result.content[0].text, "unblocked");
    assert.equal((await obs.call("echo", { text: "observer" })).result.content[0].text, "observer");
    await waitFor(
      () => server.sessions.size === 5,
      "sessions of the observer, the new client and three quiet connections",
    );
    assert.deepEqual([idle.texts, midFrame.texts, midHeader.texts], [[], [], []]);
    // The quiet connection is still served once it speaks.
    idle.sendText('{"jsonrpc":"2.0","id":"late","method":"ping"}');
    assert.deepEqual(JSON.parse(await idle.next()), { jsonrpc: "2.0", id: "late", result: {} });

    await c.close();
    await Promise.all([idle.destroy(), midFrame.destroy(), midHeader.destroy()]);
    halfHttp.destroy();
  });

  hostile("notifications with unknown methods, or malformed known ones, are ignored", async () => {
    const c = await newReady();
    for (
      const n of [
        { jsonrpc: "2.0", method: "notifications/unknown" },
        { jsonrpc: "2.0", method: "no/such/thing", params: { a: 1 } },
        { jsonrpc: "2.0", method: "" },
        { jsonrpc: "2.0", method: "tools/call", params: { name: "echo", arguments: { text: "not a request" } } },
        { jsonrpc: "2.0", method: "ping" },
        { jsonrpc: "2.0", method: "notifications/cancelled" },
        { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: { a: 1 } } },
        { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: "x" } },
        { jsonrpc: "2.0", method: "notifications/roots/list_changed" },
        { jsonrpc: "2.0", method: "notifications/initialized", params: { x: [1] } },
      ]
    ) c.send(n);
    await nothingElse(c, "a notification");
    await c.close();
  });
});
