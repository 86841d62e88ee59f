// Limits and lifecycle over real sockets: maxMessageBytes, maxConnections,
// maxInFlight, requestTimeout, the Origin check, authenticate, graceful
// close(), maxBufferedBytes and keepAlive.
//
// Several tests need what the WebSocket constructor cannot do (set Origin or
// Authorization, stop reading, ignore pings), so this file has a tiny client
// over node:net: rawUpgrade() does the HTTP/1.1 handshake by hand and
// RawSocket speaks masked frames.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Buffer } from "node:buffer";
import { z } from "zod";
import { ErrorCode, McpServer, type ServeHandle } from "../mod.ts";
import { encodeFrame, FrameReader } from "../bench/ws_frames.ts";
import { type Deferred, deferred, emptyServer, RawClient, start, within } from "./testdata/helpers.ts";

// ---------------------------------------------------------------------------
// Helpers

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface UpgradeResponse {
  status: number;
  /** Response headers, lower-cased names. */
  headers: Record<string, string>;
  socket: net.Socket;
  /** Bytes after the response head (the first frames, when upgraded). */
  rest: Buffer;
}

/**
 * Sends a WebSocket upgrade request by hand over node:net and resolves with
 * the status line and headers. `headers` override or add to the handshake
 * (e.g. Origin, Authorization). The caller owns the returned socket.
 */
function rawUpgrade(url: URL | string, headers: Record<string, string> = {}, timeout = 5000): Promise<UpgradeResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) });
    let buf = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(() => fail(new Error(`no upgrade response within ${timeout} ms`)), timeout);
    function fail(e: Error) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    }
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0 || done) return;
      done = true;
      clearTimeout(timer);
      socket.off("data", onData);
      const [statusLine, ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(statusLine);
      const hs: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(":");
        if (i > 0) hs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: m ? Number(m[1]) : 0, headers: hs, socket, rest: buf.subarray(end + 4) });
    };
    socket.on("data", onData);
    socket.on("error", (e: Error) => fail(e));
    socket.on("close", () => fail(new Error("connection closed before the response head")));
    socket.on("connect", () => {
      const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
      const all: Record<string, string> = {
        Host: u.host,
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "mcp",
        ...headers,
      };
      let head = `GET ${u.pathname}${u.search} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(all)) head += `${k}: ${v}\r\n`;
      socket.write(head + "\r\n");
    });
  });
}

/** Status of a refused upgrade; closes the socket. Fails if the upgrade succeeded. */
async function refusedWith(url: URL | string, headers: Record<string, string> = {}): Promise<UpgradeResponse> {
  const r = await rawUpgrade(url, headers);
  r.socket.destroy();
  return r;
}

// deno-lint-ignore no-explicit-any
type Msg = any;

/**
 * A WebSocket peer over a node:net socket after rawUpgrade(): sends masked
 * text frames, parses the server's frames, counts pings and never answers
 * them, and records the close frame.
 */
class RawSocket {
  socket: net.Socket;
  messages: Msg[] = [];
  /** Every JSON message received, in order. */
  log: Msg[] = [];
  pings = 0;
  closeFrame?: { code: number; reason: string };
  /** Resolves when the TCP connection is gone. */
  ended: Promise<void>;
  #frames = new FrameReader((opcode, fin, payload) => this.#frame(opcode, fin, Buffer.from(payload!)));
  #frag: Buffer[] = [];
  #waiters: { match: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  #onCloseFrame: (() => void)[] = [];
  #nextId = 1;

  constructor(socket: net.Socket, rest: Buffer) {
    this.socket = socket;
    this.ended = new Promise((r) => socket.once("close", () => r()));
    socket.on("error", () => {});
    socket.on("data", (c: Buffer) => this.#feed(c));
    if (rest.length) this.#feed(rest);
  }

  static async open(url: URL | string, headers?: Record<string, string>): Promise<RawSocket> {
    const r = await rawUpgrade(url, headers);
    if (r.status !== 101) {
      r.socket.destroy();
      throw new Error(`upgrade refused with ${r.status}`);
    }
    return new RawSocket(r.socket, r.rest);
  }

  #feed(chunk: Buffer): void {
    this.#frames.push(chunk);
  }

  #frame(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode === 9) return void this.pings++; // never answered: this peer is "dead" to keep-alive
    if (opcode === 10) return;
    if (opcode === 8) {
      this.closeFrame = {
        code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005,
        reason: payload.subarray(2).toString("utf8"),
      };
      for (const f of this.#onCloseFrame.splice(0)) f();
      return;
    }
    if (opcode === 1 || opcode === 2) this.#frag = [];
    this.#frag.push(Buffer.from(payload));
    if (!fin) return;
    const m = JSON.parse(Buffer.concat(this.#frag).toString("utf8"));
    this.#frag = [];
    this.log.push(m);
    const i = this.#waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(m);
    else this.messages.push(m);
  }

  sendText(text: string): void {
    this.socket.write(encodeFrame(1, Buffer.from(text, "utf8")));
  }

  /** Sends one text message as several fragments (a text frame, then continuation frames). */
  sendFragmented(text: string, parts: number): void {
    const bytes = Buffer.from(text, "utf8");
    const size = Math.ceil(bytes.length / parts);
    for (let i = 0; i < parts; i++) {
      const last = i === parts - 1;
      this.socket.write(
        encodeFrame(i === 0 ? 1 : 0, bytes.subarray(i * size, last ? bytes.length : (i + 1) * size), last),
      );
    }
  }

  send(msg: unknown): void {
    this.sendText(JSON.stringify(msg));
  }

  next(match: (m: Msg) => boolean = () => true, timeout = 5000): Promise<Msg> {
    const i = this.messages.findIndex(match);
    if (i >= 0) return Promise.resolve(this.messages.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (m: Msg) => (clearTimeout(t), resolve(m)) };
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`no matching message within ${timeout} ms`));
      }, timeout);
      this.#waiters.push(w);
    });
  }

  request(method: string, params?: Record<string, unknown>, id: string | number = this.#nextId++): Promise<Msg> {
    this.send(params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params });
    return this.next((m) => m.id === id && m.method === undefined);
  }

  call(name: string, args: Record<string, unknown> = {}, id?: string | number): Promise<Msg> {
    return this.request("tools/call", { name, arguments: args }, id);
  }

  async initialize(): Promise<void> {
    const res = await this.request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "raw-net", version: "1" },
    });
    if (!res.result) throw new Error(`initialize failed: ${JSON.stringify(res)}`);
    this.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  }

  /** Resolves with the close frame, or with undefined when TCP ended without one. */
  closeOrEnd(timeout = 5000): Promise<{ code: number; reason: string } | undefined> {
    if (this.closeFrame) return Promise.resolve(this.closeFrame);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`neither a close frame nor the end within ${timeout} ms`)), timeout);
      const done = () => (clearTimeout(t), resolve(this.closeFrame));
      this.#onCloseFrame.push(done);
      this.ended.then(done);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** How many messages in `log` answer request `id`. */
function answers(log: Msg[], id: string | number): number {
  return log.filter((m) => m.id === id && m.method === undefined).length;
}

/** Every frame a RawClient received, parsed. */
const received = (c: RawClient): Msg[] => c.raw.map((t) => JSON.parse(t));

const callFrame = (id: string | number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});

const utf8 = (s: string) => new TextEncoder().encode(s).length;

// ---------------------------------------------------------------------------
// maxMessageBytes

describe("maxMessageBytes", () => {
  const LIMIT = 4096;
  let h: ServeHandle;
  let other: RawClient;
  before(async () => {
    const server = emptyServer();
    server.tool("len", { input: z.object({ s: z.string() }) }, ({ s }) => `${s.length} ${utf8(s)}`);
    h = start(server, { maxMessageBytes: LIMIT });
    other = await RawClient.ready(h.url);
  });
  after(async () => {
    await other.close();
    await h.close({ timeout: 100 });
  });

  // A tools/call of "len" whose UTF-8 encoding is exactly `bytes` long: `unit`
  // repeated as far as it fits, then ASCII padding.
  function frameOf(id: number, bytes: number, unit = "a"): { text: string; s: string } {
    const base = JSON.stringify(callFrame(id, "len", { s: "" }));
    let room = bytes - utf8(base);
    const n = Math.floor(room / utf8(unit));
    let s = unit.repeat(n);
    room -= utf8(s);
    s += "a".repeat(room);
    const text = JSON.stringify(callFrame(id, "len", { s }));
    assert.equal(utf8(text), bytes);
    return { text, s };
  }

  async function otherStillWorks() {
    const res = await other.call("len", { s: "h€llo" });
    assert.equal(res.result.content[0].text, "5 7");
  }

  test("a frame of exactly the limit is answered", async () => {
    const c = await RawClient.ready(h.url);
    const { text, s } = frameOf(1, LIMIT);
    c.send(text);
    const res = await c.next((f) => f.id === 1);
    assert.equal(res.result.content[0].text, `${s.length} ${utf8(s)}`);
    await otherStillWorks();
    await c.close();
  });

  test("a multi-byte frame just under the limit is answered", async () => {
    const c = await RawClient.ready(h.url);
    for (const [id, unit] of [[1, "€"], [2, "😀"], [3, "é"]] as const) {
      const { text, s } = frameOf(id, LIMIT - 1, unit);
      assert.ok(s.includes(unit));
      c.send(text);
      const res = await c.next((f) => f.id === id);
      assert.equal(res.result.content[0].text, `${s.length} ${utf8(s)}`, unit);
    }
    await c.close();
  });

  test("one byte over the limit closes the socket with 1009", async () => {
    const c = await RawClient.ready(h.url);
    c.send(frameOf(1, LIMIT + 1).text);
    const { code } = await within(c.closed, 5000, "close after an oversized frame");
    assert.equal(code, 1009);
    assert.equal(answers(received(c), 1), 0, "the oversized request is not processed");
    await otherStillWorks();
  });

  test("a string whose UTF-16 length is under the limit but UTF-8 length over it closes with 1009", async () => {
    for (const unit of ["€", "😀"]) {
      const c = await RawClient.ready(h.url);
      const { text } = frameOf(1, LIMIT + 600, unit);
      assert.ok(text.length < LIMIT, `UTF-16 length ${text.length} is under the limit`);
      c.send(text);
      const { code } = await within(c.closed, 5000, `close after an oversized ${unit} frame`);
      assert.equal(code, 1009, unit);
      await otherStillWorks();
    }
  });

  test("the limit applies to the whole message, not to each fragment", async () => {
    const ok = await RawSocket.open(h.url);
    await ok.initialize();
    const small = frameOf(1, LIMIT, "€");
    ok.sendFragmented(small.text, 3);
    const res = await ok.next((m) => m.id === 1);
    assert.equal(res.result.content[0].text, `${small.s.length} ${utf8(small.s)}`, "fragments are reassembled");
    ok.destroy();

    const big = await RawSocket.open(h.url);
    await big.initialize();
    big.sendFragmented(frameOf(2, 2 * LIMIT).text, 4); // each fragment is half the limit
    const cf = await big.closeOrEnd(5000);
    assert.equal(cf?.code, 1009);
    assert.equal(answers(big.log, 2), 0);
    big.destroy();
    await otherStillWorks();
  });

  test("the bystander connected throughout was never disturbed", async () => {
    await otherStillWorks();
    assert.equal(other.ws.readyState, WebSocket.OPEN);
    assert.equal(other.frames.length, 0, "no stray frames reached the bystander");
  });
});

// ---------------------------------------------------------------------------
// maxConnections

describe("maxConnections", () => {
  test("the third upgrade gets 503 and a slot frees up when a client leaves", async () => {
    const h = start(emptyServer(), { maxConnections: 2 });
    const a = await RawClient.ready(h.url);
    const b = await RawClient.ready(h.url);
    assert.equal(h.connections, 2);

    const third = new RawClient(h.url);
    await assert.rejects(within(third.opened, 5000, "third WebSocket"), /websocket error/);
    await within(third.closed, 5000, "third WebSocket close event");

    const raw = await refusedWith(h.url);
    assert.equal(raw.status, 503);
    assert.ok(raw.headers["retry-after"], "503 carries Retry-After");
    assert.equal(raw.headers.upgrade, undefined);
    assert.equal(h.connections, 2, "refused upgrades open no socket");

    // Both admitted clients still work.
    assert.deepEqual((await a.request("ping")).result, {});
    assert.deepEqual((await b.request("ping")).result, {});

    await a.close();
    // The server may see the close a moment after the client does: retry, bounded.
    let admitted: RawSocket | undefined;
    const statuses: number[] = [];
    for (let i = 0; i < 50 && !admitted; i++) {
      const r = await rawUpgrade(h.url);
      statuses.push(r.status);
      if (r.status === 101) admitted = new RawSocket(r.socket, r.rest);
      else (r.socket.destroy(), await pause(20));
    }
    assert.ok(admitted, `never admitted after a client left: ${statuses.join(",")}`);
    assert.ok(statuses.every((s) => s === 101 || s === 503), statuses.join(","));
    await admitted.initialize();
    assert.deepEqual((await admitted.request("ping")).result, {});
    assert.deepEqual((await b.request("ping")).result, {});

    admitted.destroy();
    await b.close();
    await h.close({ timeout: 100 });
  });

  test("a burst of simultaneous upgrades admits no more than the limit, even with a slow authenticate", async () => {
    for (const authenticate of [undefined, () => pause(20).then(() => ({ ok: true }))]) {
      const server = emptyServer();
      const h = start(server, { maxConnections: 2, authenticate });
      const rs = await Promise.all(Array.from({ length: 6 }, () => rawUpgrade(h.url)));
      const statuses = rs.map((r) => r.status).sort();
      assert.deepEqual(statuses, [101, 101, 503, 503, 503, 503], `authenticate: ${!!authenticate}`);
      assert.equal(h.connections, 2);
      for (const r of rs) r.socket.destroy();
      await h.close({ timeout: 100 });
    }
  });
});

// ---------------------------------------------------------------------------
// maxInFlight

describe("maxInFlight", () => {
  let h: ServeHandle;
  const gates = new Map<string, Deferred<string>>();
  const started = new Map<string, Deferred<void>>();
  const gate = <T>(m: Map<string, Deferred<T>>, k: string) => {
    if (!m.has(k)) m.set(k, deferred<T>());
    return m.get(k)!;
  };
  before(() => {
    const server = new McpServer({ name: "test", version: "0.0.1", maxInFlight: 2 });
    server.tool("held", { input: z.object({ key: z.string() }) }, ({ key }) => {
      gate(started, key).resolve();
      return gate(gates, key).promise;
    });
    h = start(server);
  });
  after(async () => {
    for (const g of gates.values()) g.resolve("released at the end");
    await h.close({ timeout: 100 });
  });

  test("with two slow calls in flight, further requests get -32010 at once; after one finishes, new ones run", async () => {
    const c = await RawClient.ready(h.url);
    c.send(callFrame("a", "held", { key: "a" }));
    c.send(callFrame("b", "held", { key: "b" }));
    await within(Promise.all([gate(started, "a").promise, gate(started, "b").promise]), 5000, "a and b start");

    // Not queued: each extra request is refused while a and b still hang.
    for (
      const [id, frame] of [
        ["c", callFrame("c", "held", { key: "c" })],
        ["list", { jsonrpc: "2.0", id: "list", method: "tools/list" }],
        ["d", callFrame("d", "held", { key: "d" })],
      ] as const
    ) {
      c.send(frame);
      const res = await c.next((f) => f.id === id);
      assert.equal(res.error?.code, -32010, JSON.stringify(res));
      assert.equal(res.error?.code, ErrorCode.ServerBusy);
      assert.match(res.error!.message, /too many requests/i);
    }
    assert.equal(started.has("c") || started.has("d"), false, "refused calls never ran");

    // Another connection has its own budget.
    const other = await RawClient.ready(h.url);
    other.send(callFrame("x", "held", { key: "x" }));
    await within(gate(started, "x").promise, 5000, "x starts on another connection");
    gate(gates, "x").resolve("x done");
    assert.equal((await other.next((f) => f.id === "x")).result.content[0].text, "x done");
    await other.close();

    assert.equal(answers(received(c), "a") + answers(received(c), "b"), 0, "a and b still in flight");
    gate(gates, "a").resolve("a done");
    assert.equal((await c.next((f) => f.id === "a")).result.content[0].text, "a done");

    c.send(callFrame("e", "held", { key: "e" }));
    await within(gate(started, "e").promise, 5000, "e runs once a slot is free");
    gate(gates, "e").resolve("e done");
    gate(gates, "b").resolve("b done");
    assert.equal((await c.next((f) => f.id === "e")).result.content[0].text, "e done");
    assert.equal((await c.next((f) => f.id === "b")).result.content[0].text, "b done");

    // Every request got exactly one answer.
    const log = received(c);
    for (const id of ["a", "b", "c", "d", "e", "list"]) assert.equal(answers(log, id), 1, id);
    await c.close();
  });
});

// ---------------------------------------------------------------------------
// requestTimeout

describe("requestTimeout", () => {
  let h: ServeHandle;
  let aborted: Deferred<unknown>;
  let lateCheck: Deferred<boolean>;
  let lateGo: Deferred<void>;
  before(() => {
    const server = new McpServer({ name: "test", version: "0.0.1", requestTimeout: 200 });
    server.tool("hang", {}, (_a, ctx) =>
      new Promise((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          aborted.resolve(ctx.signal.reason);
          resolve("finished after the abort"); // must not produce a second response
        });
      }));
    // Looks at ctx.signal only after the deadline has passed.
    server.tool("lazy", {}, async (_a, ctx) => {
      await lateGo.promise;
      lateCheck.resolve(ctx.signal.aborted);
      return "late";
    });
    server.tool("quick", {}, async () => {
      await pause(1);
      return "quick";
    });
    h = start(server);
  });
  after(() => h.close({ timeout: 100 }));

  test("a handler running too long gets exactly one -32001 error and its signal is aborted", async () => {
    aborted = deferred();
    const c = await RawClient.ready(h.url);
    const res = await c.call("hang");
    assert.equal(res.error?.code, -32001);
    assert.equal(res.error?.code, ErrorCode.RequestTimeout);
    assert.match(res.error!.message, /timed out/i);
    const reason = await within(aborted.promise, 5000, "the handler's signal aborts");
    assert.ok(reason !== undefined);
    // Round trips after the abort: a second response would have arrived by now.
    assert.deepEqual((await c.request("ping")).result, {});
    assert.equal((await c.call("quick")).result.content[0].text, "quick");
    const hangId = res.id!;
    assert.equal(answers(received(c), hangId), 1, "exactly one response to the timed-out request");
    await c.close();
  });

  test("a handler that reads ctx.signal only after the deadline sees it aborted", async () => {
    lateCheck = deferred();
    lateGo = deferred();
    const c = await RawClient.ready(h.url);
    const res = await c.call("lazy");
    assert.equal(res.error?.code, ErrorCode.RequestTimeout);
    lateGo.resolve();
    assert.equal(await within(lateCheck.promise, 5000, "lazy handler resumes"), true, "ctx.signal.aborted");
    assert.deepEqual((await c.request("ping")).result, {});
    assert.equal(answers(received(c), res.id!), 1);
    await c.close();
  });

  test("a handler that finishes in time is answered normally", async () => {
    const c = await RawClient.ready(h.url);
    assert.equal((await c.call("quick")).result.content[0].text, "quick");
    await c.close();
  });
});

// ---------------------------------------------------------------------------
// Origin check

describe("Origin check on upgrade", () => {
  const open: net.Socket[] = [];
  const handles: ServeHandle[] = [];
  after(async () => {
    for (const s of open) s.destroy();
    for (const h of handles) await h.close({ timeout: 100 });
  });

  // Expects a 101 (and keeps the socket open until the end, so the connection count only grows) or a refusal.
  async function expectUpgrade(h: ServeHandle, origin: string | undefined, status: 101 | 403) {
    const before = h.connections;
    const r = await rawUpgrade(h.url, origin === undefined ? {} : { Origin: origin });
    assert.equal(r.status, status, `Origin ${origin}`);
    if (status === 101) {
      open.push(r.socket);
      assert.equal(h.connections, before + 1, `Origin ${origin} opened a connection`);
    } else {
      r.socket.destroy();
      assert.equal(h.connections, before, `Origin ${origin} opened no connection`);
      assert.equal(r.headers["sec-websocket-accept"], undefined);
    }
  }

  function server(options: Parameters<typeof start>[1]): ServeHandle {
    const h = start(emptyServer(), options);
    handles.push(h);
    return h;
  }

  test("default: no Origin and loopback origins are allowed, others get 403", async () => {
    const h = server({});
    await expectUpgrade(h, undefined, 101);
    await expectUpgrade(h, "http://localhost:1234", 101);
    await expectUpgrade(h, "http://127.0.0.1:5", 101);
    await expectUpgrade(h, "http://[::1]:7", 101);
    await expectUpgrade(h, "https://localhost", 101);
    await expectUpgrade(h, "https://evil.example", 403);
    await expectUpgrade(h, "http://localhost.evil.example", 403);
    await expectUpgrade(h, "http://127.0.0.1.evil.example:5", 403);
    await expectUpgrade(h, "null", 403);
  });

  test("a list allows exactly its origins and no longer the loopback ones", async () => {
    const h = server({ allowedOrigins: ["https://app.example"] });
    await expectUpgrade(h, "https://app.example", 101);
    await expectUpgrade(h, undefined, 101);
    await expectUpgrade(h, "http://app.example", 403);
    await expectUpgrade(h, "https://app.example.evil", 403);
    await expectUpgrade(h, "http://localhost:1234", 403);
    await expectUpgrade(h, "http://127.0.0.1:5", 403);
    await expectUpgrade(h, "https://evil.example", 403);
  });

  test('"*" allows any origin', async () => {
    const h = server({ allowedOrigins: "*" });
    await expectUpgrade(h, "https://evil.example", 101);
    await expectUpgrade(h, "null", 101);
  });

  test("a function decides", async () => {
    const seen: string[] = [];
    const h = server({
      allowedOrigins: (o) => (seen.push(o), o.endsWith(".trusted.example")),
    });
    await expectUpgrade(h, "https://a.trusted.example", 101);
    await expectUpgrade(h, "https://evil.example", 403);
    await expectUpgrade(h, "http://localhost:1234", 403);
    assert.deepEqual(seen, ["https://a.trusted.example", "https://evil.example", "http://localhost:1234"]);
  });

  test("a WebSocket client (no Origin) is served end to end under an allow-list", async () => {
    const h = server({ allowedOrigins: ["https://app.example"] });
    const c = await RawClient.ready(h.url);
    assert.deepEqual((await c.request("ping")).result, {});
    await c.close();
  });
});

// ---------------------------------------------------------------------------
// authenticate

describe("authenticate", () => {
  let h: ServeHandle;
  let server: McpServer;
  before(() => {
    server = emptyServer();
    server.tool("whoami", {}, (_a, ctx) => JSON.stringify(ctx.auth ?? null));
    h = start(server, {
      authenticate(req) {
        const a = req.headers.get("authorization");
        if (a === "Bearer good") return { user: "ada" };
        if (a === "Bearer async") return Promise.resolve({ user: "async" });
        if (a === "Bearer teapot") {
          return new Response("no tea\n", { status: 418, headers: { "x-why": "teapot" } });
        }
        if (a === "Bearer throws") throw new Error("token store is down");
        if (a === "Bearer false") return false;
        if (a === "Bearer null") return null;
        return undefined;
      },
    });
  });
  after(() => h.close({ timeout: 100 }));

  for (const [token, user] of [["good", "ada"], ["async", "async"]]) {
    test(`an accepted token (${token}) becomes ctx.auth`, async () => {
      const s = await RawSocket.open(h.url, { Authorization: `Bearer ${token}` });
      await s.initialize();
      const res = await s.call("whoami");
      assert.deepEqual(JSON.parse(res.result.content[0].text), { user });
      s.destroy();
      await within(s.ended, 5000, "socket end");
    });
  }

  for (
    const [what, headers] of [
      ["no Authorization", {}],
      ["an unknown token", { Authorization: "Bearer nope" }],
      ["a hook returning false", { Authorization: "Bearer false" }],
      ["a hook returning null", { Authorization: "Bearer null" }],
      ["a throwing hook", { Authorization: "Bearer throws" }],
    ] as const
  ) {
    test(`${what} gets 401 with WWW-Authenticate and no socket`, async () => {
      const sessions = new Set(server.sessions);
      const connections = h.connections;
      const r = await refusedWith(h.url, headers);
      assert.equal(r.status, 401);
      assert.equal(r.headers["www-authenticate"], 'Bearer realm="mcp"');
      assert.equal(r.headers["sec-websocket-accept"], undefined);
      assert.ok(h.connections <= connections, "no connection opened");
      assert.deepEqual([...server.sessions].filter((x) => !sessions.has(x)), [], "no session opened");
    });
  }

  test("a Response from the hook is sent as is", async () => {
    const r = await refusedWith(h.url, { Authorization: "Bearer teapot" });
    assert.equal(r.status, 418);
    assert.equal(r.headers["x-why"], "teapot");
    assert.equal(r.headers["sec-websocket-accept"], undefined);
  });

  test("the realm option names the realm", async () => {
    const h2 = start(emptyServer(), { authenticate: () => undefined, realm: "tools" });
    const r = await refusedWith(h2.url);
    assert.equal(r.status, 401);
    assert.equal(r.headers["www-authenticate"], 'Bearer realm="tools"');
    await h2.close({ timeout: 100 });
  });

  test("a WebSocket client without credentials fails to open", async () => {
    const c = new RawClient(h.url);
    await assert.rejects(within(c.opened, 5000, "unauthenticated WebSocket"));
    await within(c.closed, 5000, "close event");
  });
});

// ---------------------------------------------------------------------------
// Graceful shutdown

describe("graceful close()", () => {
  test("drains: new upgrades refused, new requests refused, the in-flight answer delivered, then 1001", async () => {
    const server = emptyServer();
    const started = deferred();
    const release = deferred<string>();
    server.tool("held", {}, () => (started.resolve(), release.promise));
    server.tool("quick", {}, () => Promise.resolve("quick"));
    const h = start(server);
    const c = await RawClient.ready(h.url);
    c.send(callFrame("held-1", "held"));
    await within(started.promise, 5000, "held starts");

    const closing = h.close({ timeout: 5000 });

    // No new connections while draining: 503, or the listener is already gone.
    const r = await rawUpgrade(h.url).catch((e: Error) => e);
    if (r instanceof Error) {
      assert.match(String((r as { code?: string }).code ?? r.message), /ECONNREFUSED|ECONNRESET|closed/);
    } else (r.socket.destroy(), assert.equal(r.status, 503));

    const during = await c.call("quick");
    assert.ok(during.error, `a request during the drain is refused: ${JSON.stringify(during)}`);
    assert.match(during.error.message, /shutting down/i);
    assert.equal(answers(received(c), "held-1"), 0, "held-1 is still running");

    release.resolve("held result");
    const held = await c.next((f) => f.id === "held-1");
    assert.equal(held.result?.content[0].text, "held result");
    const closed = await within(c.closed, 5000, "socket closes after the drain");
    assert.equal(closed.code, 1001);
    assert.ok(closed.reason.length > 0, "close reason given");
    await within(closing, 5000, "close() resolves");

    const log = received(c);
    assert.equal(answers(log, "held-1"), 1);
    assert.equal(answers(log, during.id!), 1);
    await assert.rejects(rawUpgrade(h.url), "nothing listens after close()");
  });

  test("a handler that never finishes is aborted at the deadline and its socket closed with 1001", async () => {
    const server = emptyServer();
    const started = deferred();
    const aborted = deferred<unknown>();
    server.tool("stuck", {}, (_a, ctx) => {
      ctx.signal.addEventListener("abort", () => aborted.resolve(ctx.signal.reason));
      started.resolve();
      return new Promise<string>(() => {});
    });
    const h = start(server);
    const c = await RawClient.ready(h.url);
    c.send(callFrame("stuck-1", "stuck"));
    await within(started.promise, 5000, "stuck starts");

    const closing = h.close({ timeout: 200 });
    assert.notEqual(await within(aborted.promise, 5000, "the stuck handler's signal aborts"), undefined);
    const closed = await within(c.closed, 5000, "socket closes at the deadline");
    assert.equal(closed.code, 1001);
    assert.ok(closed.reason.length > 0, "close reason given");
    await within(closing, 5000, "close() resolves");
    const n = answers(received(c), "stuck-1");
    assert.ok(n <= 1, `at most one answer, got ${n}`);
    if (n === 1) assert.ok(received(c).find((m) => m.id === "stuck-1").error, "an answer after abort is an error");
  });
});

// ---------------------------------------------------------------------------
// maxBufferedBytes

describe("maxBufferedBytes", () => {
  const LIMIT = 1024 * 1024;
  const CHUNK = "x".repeat(64 * 1024);
  let h: ServeHandle;
  const aborted = new Map<string, Deferred<void>>();
  const abortedFor = (key: string) => {
    if (!aborted.has(key)) aborted.set(key, deferred());
    return aborted.get(key)!;
  };
  before(() => {
    const server = emptyServer();
    // Streams log notifications, 256 KiB per turn of the event loop, until `total` or the signal aborts.
    server.tool("flood", { input: z.object({ key: z.string(), total: z.number() }) }, async ({ key, total }, ctx) => {
      ctx.signal.addEventListener("abort", () => abortedFor(key).resolve());
      let sent = 0;
      while (!ctx.signal.aborted && sent < total) {
        for (let i = 0; i < 4; i++) (ctx.log("info", CHUNK), sent += CHUNK.length);
        await pause(0);
      }
      return `sent ${sent}`;
    });
    h = start(server, { maxBufferedBytes: LIMIT });
  });
  after(() => h.close({ timeout: 100 }));

  test("a client that reads keeps up with a stream larger than the limit", async () => {
    const s = await RawSocket.open(h.url);
    await s.initialize();
    const total = 8 * LIMIT;
    const res = await s.call("flood", { key: "reader", total }, "r1");
    assert.equal(res.result?.content[0].text, `sent ${total}`);
    assert.equal(s.log.filter((m) => m.method === "notifications/message").length, total / CHUNK.length);
    assert.equal(s.closeFrame, undefined);
    s.destroy();
  });

  test("a client that stops reading is closed with 1008/1013, its handler aborted; others keep working", async () => {
    const bystander = await RawClient.ready(h.url);
    const s = await RawSocket.open(h.url);
    await s.initialize();
    s.socket.pause();
    s.send(callFrame("f1", "flood", { key: "paused", total: 64 * 1024 * 1024 }));
    // The server must give up on it: the handler is aborted and the connection dropped.
    await within(abortedFor("paused").promise, 10_000, "the server aborts the flood to a client that does not read");
    assert.deepEqual((await bystander.request("ping")).result, {});
    assert.equal(h.connections, 1, "only the bystander is left");

    s.socket.resume();
    const cf = await s.closeOrEnd(10_000);
    assert.ok(cf, "a close frame follows the queued data");
    assert.ok(cf.code === 1008 || cf.code === 1013, `close code ${cf.code}`);
    s.destroy();
    assert.equal((await bystander.call("nope")).error?.code, ErrorCode.InvalidParams);
    await bystander.close();
  });
});

// ---------------------------------------------------------------------------
// keepAlive

describe("keepAlive", () => {
  // Bun's test runner stops a test after 5 s by default; the dead peer takes ~2 s here.
  test("a peer that never answers pings is closed and its handlers aborted; a live one stays", {
    timeout: 10_000,
  }, async () => {
    const server = emptyServer();
    const started = deferred();
    const aborted = deferred<unknown>();
    server.tool("hang", {}, (_a, ctx) =>
      new Promise<string>((resolve) => {
        ctx.signal.addEventListener("abort", () => (aborted.resolve(ctx.signal.reason), resolve("aborted")));
        started.resolve();
      }));
    const h = start(server, { keepAlive: 1000 });
    const live = await RawClient.ready(h.url);
    const dead = await RawSocket.open(h.url);
    await dead.initialize();
    dead.send(callFrame("h1", "hang"));
    await within(started.promise, 5000, "hang starts");

    // Both runtimes ping after keepAlive of silence and close a peer that has not answered one keepAlive later.
    const bound = 5000;
    await within(aborted.promise, bound, "the dead peer's handler is aborted");
    const cf = await dead.closeOrEnd(bound);
    await within(dead.ended, bound, "the dead peer's TCP connection is closed");
    assert.ok(dead.pings >= 1, "the server sent at least one ping");
    if (cf) assert.ok(cf.code >= 1000 && cf.code !== 1005, `close code ${cf.code}`);
    assert.equal(answers(dead.log, "h1"), 0);

    // The live client, idle just as long, answered the pings and is still served.
    assert.equal(live.ws.readyState, WebSocket.OPEN);
    assert.deepEqual((await live.request("ping")).result, {});
    assert.equal(h.connections, 1);
    await live.close();
    dead.destroy();
    await h.close({ timeout: 100 });
  });
});
