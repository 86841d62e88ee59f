// A bounded, reproducible fuzz run: random and mutated frames against a live
// server with several tools, resources and prompts, over raw sockets.
//
//   FUZZ_FRAMES=100000 FUZZ_SEED=1234 deno test -A tests/fuzz.test.ts
//
// Oracles: every frame the server sends is one well-formed JSON-RPC message (or
// a batch of responses) with no extra top-level keys and no stack trace; no id
// is answered more often than it was sent; a frame that is not JSON, or is a
// JSON primitive, gets an error with id null; the server closes a socket only
// for a reason the fuzzer gave it (1003 binary, 1007 invalid UTF-8, 1009 too
// big); a ping after every few frames is answered (the connection is alive and
// in order). Afterwards a fresh client works and no closed session is retained.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { McpServer, type Registered, type ServeHandle } from "../mod.ts";
import { NetWsClient, RawClient, start, waitFor } from "./testdata/helpers.ts";

const env: Record<string, string | undefined> = globalThis.process?.env ?? {};
const FRAMES = Math.max(1, Number(env.FUZZ_FRAMES) || 20_000);
const SEED = (env.FUZZ_SEED ? Number(env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 32)) >>> 0;
const WORKERS = 3; // fuzzing connections at once
const SEGMENT = 24; // frames between two liveness pings
const LIMIT = 256 * 1024; // the server's maxMessageBytes

// ---------------------------------------------------------------------------
// Seeded randomness (mulberry32): one seed reproduces the whole run.

class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---------------------------------------------------------------------------
// The vocabulary: every MCP method name, real targets, and troublemakers.

const METHODS = [
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "sampling/createMessage",
  "elicitation/create",
  "roots/list",
  "tasks/get",
  "tasks/result",
  "tasks/list",
  "tasks/cancel",
  "server/discover",
  "subscriptions/listen",
  "notifications/initialized",
  "notifications/cancelled",
  "notifications/progress",
  "notifications/message",
  "notifications/roots/list_changed",
  "notifications/resources/updated",
  "notifications/resources/list_changed",
  "notifications/tools/list_changed",
  "notifications/prompts/list_changed",
  "notifications/elicitation/complete",
  "notifications/tasks/status",
] as const;
const ODD_METHODS = ["", " ping", "PING", "tools/", "/", "__proto__", "constructor", "toString", "a".repeat(300)];
const TOOLS = [
  "echo",
  "add",
  "inspect",
  "slow",
  "throws",
  "structured",
  "roots",
  "sample",
  "elicit",
  "chatty",
  "toggle",
  "extra",
  "nope",
  "__proto__",
];
const URIS = ["file:///a.txt", "file:///b.bin", "file:///broken", "users://42", "users://", "users://a/b", "nope://x"];
const VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2026-07-28", "1999-01-01", ""];
const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency", "nope"];
const HUGE = [
  "1e400",
  "-1e400",
  "1e-400",
  "123456789012345678901234567890",
  "9007199254740993",
  "-0",
  "1.5",
  "0.1e1",
  "1E+2",
];
const KEYS = [
  "jsonrpc",
  "id",
  "method",
  "params",
  "result",
  "error",
  "name",
  "arguments",
  "uri",
  "cursor",
  "_meta",
  "progressToken",
  "requestId",
  "__proto__",
  "constructor",
  "prototype",
  "text",
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Sets an own property, even "__proto__", the same way on every runtime. */
function put(o: { [k: string]: Json }, k: string, v: Json): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

const isObject = (v: unknown): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

function randomId(r: Rng): Json {
  return r.pick<() => Json>([
    () => r.int(10),
    () => r.int(1e9),
    () => -r.int(100),
    () => `id-${r.int(50)}`,
    () => "",
    () => null,
    () => true,
    () => 1.5,
    () => ({}),
    () => [r.int(3)],
    () => "__proto__",
  ])();
}

function randomString(r: Rng): string {
  const n = r.int(40);
  let s = "";
  for (let i = 0; i < n; i++) {
    s += r.chance(0.8)
      ? String.fromCharCode(32 + r.int(95))
      : String.fromCodePoint(r.pick([0, 0x7f, 0xe9, 0x20ac, 0xfffd, 0x1f600, 0xd800]));
  }
  return s;
}

function randomValue(r: Rng, depth = 0): Json {
  const k = r.int(depth > 2 ? 5 : 8);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 2 ** 53, 1e308, 0.5, r.int(1000)]);
    case 3:
    case 4:
      return randomString(r);
    case 5:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: {
      const o: { [k: string]: Json } = {};
      for (let i = r.int(4); i > 0; i--) {
        put(o, r.chance(0.5) ? r.pick(KEYS) : randomString(r), randomValue(r, depth + 1));
      }
      return o;
    }
  }
}

function toolArgs(r: Rng, name: string): Json {
  switch (name) {
    case "echo":
      return { text: r.chance(0.9) ? randomString(r) : randomValue(r) };
    case "add":
      return { a: r.int(100), b: r.chance(0.9) ? r.int(100) : randomValue(r) };
    case "slow":
      return { ms: r.int(30) };
    case "structured":
      return { n: r.int(10) };
    default:
      return r.chance(0.7) ? {} : randomValue(r) as Json;
  }
}

/** A plausible message: mostly valid requests, some notifications and responses. */
function message(r: Rng, modern: boolean): { [k: string]: Json } {
  const method = r.pick(METHODS);
  const id = r.chance(0.7) ? r.int(40) : `r${r.int(40)}`;
  let params: { [k: string]: Json } | undefined;
  switch (method) {
    case "initialize":
      params = {
        protocolVersion: r.pick(VERSIONS),
        capabilities: r.pick<Json>([{}, { roots: { listChanged: true } }, { sampling: {}, elicitation: {} }, {
          elicitation: { form: {}, url: {} },
        }]),
        clientInfo: { name: "fuzz", version: "1" },
      };
      break;
    case "tools/call": {
      const name = r.pick(TOOLS);
      params = { name, arguments: toolArgs(r, name) };
      break;
    }
    case "resources/read":
    case "resources/subscribe":
    case "resources/unsubscribe":
      params = { uri: r.pick(URIS) };
      break;
    case "prompts/get":
      params = { name: r.pick(["greet", "plain", "nope"]), arguments: r.chance(0.7) ? { name: randomString(r) } : {} };
      break;
    case "completion/complete":
      params = {
        ref: r.chance(0.5) ? { type: "ref/prompt", name: "greet" } : { type: "ref/resource", uri: "users://{id}" },
        argument: { name: r.pick(["name", "id", "x", "constructor"]), value: randomString(r).slice(0, 3) },
      };
      break;
    case "logging/setLevel":
      params = { level: r.pick(LEVELS) };
      break;
    case "tools/list":
    case "resources/list":
    case "prompts/list":
    case "resources/templates/list":
      if (r.chance(0.3)) params = { cursor: r.pick([btoa("tools:1"), btoa(`${method.split("/")[0]}:2`), "%%%", ""]) };
      break;
    case "subscriptions/listen":
      params = { notifications: { toolsListChanged: true, resourcesListChanged: r.chance(0.5) } };
      break;
    case "notifications/cancelled":
      params = { requestId: r.chance(0.8) ? r.int(40) : `r${r.int(40)}`, reason: "fuzz" };
      break;
    case "notifications/progress":
      params = { progressToken: r.int(5), progress: r.int(10) };
      break;
    default: {
      const v = r.chance(0.5) ? randomValue(r) : null;
      if (typeof v === "object" && v !== null && !Array.isArray(v)) params = v;
    }
  }
  if (r.chance(0.2)) put(params ??= {}, "_meta", { progressToken: r.int(1000) });
  if (modern || r.chance(0.1)) {
    params ??= {};
    if (!isObject(params._meta)) put(params, "_meta", {});
    const meta = params._meta as { [k: string]: Json };
    meta["io.modelcontextprotocol/protocolVersion"] = r.chance(0.9) ? "2026-07-28" : r.pick(VERSIONS);
    meta["io.modelcontextprotocol/clientCapabilities"] = r.chance(0.5) ? {} : { elicitation: {}, sampling: {} };
    meta["io.modelcontextprotocol/clientInfo"] = { name: "fuzz", version: "1" };
  }
  const m: { [k: string]: Json } = { jsonrpc: "2.0" };
  if (r.chance(0.08)) {
    // A response to something the server may have asked (roots, sampling, elicitation, ping).
    m.id = r.int(20);
    if (r.chance(0.7)) {
      m.result = r.pick<Json>([{}, { roots: [] }, { action: "accept", content: { name: "x" } }, {
        role: "assistant",
        model: "m",
        content: { type: "text", text: "t" },
      }, randomValue(r)]);
    } else m.error = { code: r.pick([-32601, -32603, 1]), message: "fuzz" };
    return m;
  }
  if (!method.startsWith("notifications/")) m.id = id;
  m.method = method;
  if (params !== undefined) m.params = params;
  return m;
}

// ---------------------------------------------------------------------------
// Mutations. A generated frame is text (valid UTF-8 unless noted) or raw bytes.

interface Out {
  opcode: 1 | 2;
  bytes: Uint8Array;
  fragments?: number; // split into this many frames
  pingBetween?: boolean; // a ping control frame between the first two fragments
  /** Close codes this frame may legitimately cause ("tcp": the connection just ends). */
  mayClose: (number | "tcp")[];
}

const enc = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

function mutateValue(r: Rng, v: Json, depth = 0): Json {
  if (typeof v !== "object" || v === null || depth > 6 || r.chance(0.25)) return randomValue(r);
  if (Array.isArray(v)) {
    if (!v.length) return [randomValue(r)];
    const copy = [...v];
    const i = r.int(copy.length);
    copy[i] = mutateValue(r, copy[i], depth + 1);
    return copy;
  }
  const keys = Object.keys(v);
  const copy: { [k: string]: Json } = {};
  for (const k of keys) put(copy, k, v[k]);
  if (!keys.length) put(copy, r.pick(KEYS), randomValue(r));
  else {
    const k = r.pick(keys);
    put(copy, k, mutateValue(r, v[k], depth + 1));
  }
  return copy;
}

function swapKey(r: Rng, v: { [k: string]: Json }): { [k: string]: Json } {
  const keys = Object.keys(v);
  const out: { [k: string]: Json } = {};
  const victim = r.pick(keys);
  const to = r.pick(KEYS);
  for (const k of keys) {
    if (k !== victim) put(out, k, v[k]);
    else if (r.chance(0.2)) continue; // drop it
    else put(out, to, v[k]);
  }
  return out;
}

function deep(r: Rng, inner: string): string {
  const n = r.chance(0.1) ? 20_000 + r.int(80_000) : 10 + r.int(2000);
  const closed = r.chance(0.7);
  return r.chance(0.5)
    ? "[".repeat(n) + inner + (closed ? "]".repeat(n) : "")
    : '{"a":'.repeat(n) + inner + (closed ? "}".repeat(n) : "");
}

function frame(r: Rng, modern: boolean): Out {
  const text = (s: string, extra: (number | "tcp")[] = []): Out => ({
    opcode: 1,
    bytes: enc.encode(s),
    mayClose: extra,
  });
  const base = message(r, modern);
  const json = JSON.stringify(base);
  const k = r.int(1000);
  if (k < 300) return text(json);
  if (k < 380) return text(json.slice(0, r.int(json.length))); // truncation
  if (k < 450) { // byte flips: may break UTF-8
    const b = enc.encode(json);
    for (let i = 1 + r.int(3); i > 0; i--) b[r.int(b.length)] ^= 1 << r.int(8);
    return { opcode: 1, bytes: b, mayClose: [1007, "tcp"] };
  }
  if (k < 520) return text(JSON.stringify(swapKey(r, base))); // key swaps
  if (k < 620) return text(JSON.stringify(mutateValue(r, base))); // type changes
  if (k < 640) { // deep nesting, as a whole message or as a value inside one
    const d = deep(r, "1");
    return text(r.chance(0.5) ? d : json.replace(/\}$/, `,"x":${d}}`), [1009, "tcp"]);
  }
  if (k < 690) { // huge numbers where numbers (or ids) are
    const n = r.pick(HUGE);
    return text(
      /\d+/.test(json) && r.chance(0.7) ? json.replace(/-?\d+(\.\d+)?/, n) : json.replace(/^\{/, `{"id":${n},`),
    );
  }
  if (k < 760) return text(JSON.stringify({ ...base, id: randomId(r) }));
  if (k < 830) return text(JSON.stringify({ ...base, method: r.chance(0.5) ? r.pick(METHODS) : r.pick(ODD_METHODS) }));
  if (k < 870) { // batches of mutated messages
    const items = Array.from({ length: r.int(6) }, () => r.chance(0.8) ? message(r, modern) : randomValue(r));
    return text(JSON.stringify(items));
  }
  if (k < 895) return text(randomString(r)); // random (valid UTF-8) text
  if (k < 910) { // random bytes as text
    const b = new Uint8Array(r.int(64));
    for (let i = 0; i < b.length; i++) b[i] = r.int(256);
    return { opcode: 1, bytes: b, mayClose: [1007, "tcp"] };
  }
  if (k < 950) return { ...text(json), fragments: 2 + r.int(3), pingBetween: r.chance(0.3) };
  if (k < 975) return text(json + " ".repeat(r.int(3)) + (r.chance(0.5) ? json : "")); // trailing data
  if (k < 985) return text(r.pick(["null", "[]", "{}", "0", '""', "true", "[null]", "[[]]", "[{}]"]));
  if (k < 995) return text(JSON.stringify({ ...base, params: randomValue(r) }));
  if (k < 998) return { opcode: 2, bytes: enc.encode(json), mayClose: [1003, "tcp"] };
  return { opcode: 1, bytes: enc.encode(json + " ".repeat(LIMIT)), mayClose: [1009, "tcp"] };
}

// ---------------------------------------------------------------------------
// The oracle for one frame from the server.

const RESPONSE_KEYS = new Set(["jsonrpc", "id", "result", "error"]);
const MESSAGE_KEYS = new Set(["jsonrpc", "id", "method", "params"]);
const SERVER_REQUESTS = new Set(["ping", "roots/list", "sampling/createMessage", "elicitation/create"]);

function isId(v: unknown): boolean {
  return typeof v === "string" || (typeof v === "number" && Number.isSafeInteger(v));
}

/** Checks one server frame; returns the ids of the responses in it, and whether it is an error with id null. */
function check(text: string): { ids: unknown[]; nullError: boolean } {
  const v = JSON.parse(text);
  if (Array.isArray(v)) {
    assert.ok(v.length > 0, "an empty batch response");
    return { ids: v.map((m) => checkResponse(m, text)), nullError: false };
  }
  assert.equal(typeof v, "object");
  assert.notEqual(v, null);
  if ("method" in v) {
    assert.equal(v.jsonrpc, "2.0", text);
    assert.equal(typeof v.method, "string", text);
    for (const k of Object.keys(v)) assert.ok(MESSAGE_KEYS.has(k), `extra key ${k} in ${text.slice(0, 300)}`);
    if (v.params !== undefined) {
      assert.ok(typeof v.params === "object" && v.params !== null && !Array.isArray(v.params));
    }
    if ("id" in v) {
      assert.ok(isId(v.id), `a server request needs a string or integer id: ${text.slice(0, 300)}`);
      assert.ok(SERVER_REQUESTS.has(v.method), `the server sent request ${v.method}`);
    } else assert.match(v.method, /^notifications\//, text.slice(0, 300));
    return { ids: [], nullError: false };
  }
  const id = checkResponse(v, text);
  return { ids: [id], nullError: id === null };
}

function checkResponse(m: Record<string, unknown>, text: string): unknown {
  const at = text.slice(0, 300);
  assert.equal(typeof m, "object", at);
  assert.equal(m.jsonrpc, "2.0", at);
  for (const k of Object.keys(m)) assert.ok(RESPONSE_KEYS.has(k), `extra key ${k} in ${at}`);
  assert.ok(m.id === null || isId(m.id), `response id ${JSON.stringify(m.id)}: ${at}`);
  assert.ok(("result" in m) !== ("error" in m), `exactly one of result and error: ${at}`);
  if ("result" in m) {
    assert.ok(m.id !== null, `a result for id null: ${at}`);
    assert.ok(typeof m.result === "object" && m.result !== null && !Array.isArray(m.result), at);
  } else {
    const e = m.error as { code: unknown; message: unknown };
    assert.ok(Number.isInteger(e.code), at);
    assert.equal(typeof e.message, "string", at);
    assert.doesNotMatch(e.message as string, /\n\s+at /, `a stack trace in ${at}`);
  }
  return m.id;
}

/**
 * What the server reads in a frame we sent: the ids it may answer (at most once each), and whether
 * it is plainly not a message (not JSON, or a JSON primitive), which must get an error with id null.
 */
function readSent(f: Out): { ids: string[]; plainlyInvalid: boolean } {
  if (f.opcode !== 1) return { ids: [], plainlyInvalid: false };
  let text: string;
  try {
    text = strictDecoder.decode(f.bytes);
  } catch {
    return { ids: [], plainlyInvalid: false }; // the connection fails instead
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ids: [], plainlyInvalid: true };
  }
  const one = (m: unknown) =>
    typeof m === "object" && m !== null && isId((m as { id?: unknown }).id)
      ? [JSON.stringify((m as { id: unknown }).id)]
      : [];
  if (Array.isArray(v)) return { ids: v.flatMap(one), plainlyInvalid: false };
  return { ids: one(v), plainlyInvalid: typeof v !== "object" || v === null };
}

// ---------------------------------------------------------------------------

describe(`fuzz (FUZZ_SEED=${SEED} FUZZ_FRAMES=${FRAMES})`, () => {
  let server: McpServer;
  let h: ServeHandle;
  let extra: Registered;
  const timers = new Set<ReturnType<typeof setTimeout>>();

  before(() => {
    server = new McpServer({
      name: "fuzz",
      version: "1.0.0",
      clientRequestTimeout: 100,
      requestTimeout: 500,
      maxInFlight: 16,
      pageSize: 2,
    });
    server.tool("echo", { input: z.object({ text: z.string() }) }, ({ text }) => text);
    server.tool("add", { input: z.object({ a: z.number(), b: z.number() }) }, ({ a, b }) => String(a + b));
    server.tool("inspect", {}, (args) => ({ keys: Object.keys(args) }));
    server.tool(
      "slow",
      { input: z.object({ ms: z.number().max(50) }) },
      ({ ms }, ctx) =>
        new Promise<string>((resolve) => {
          const t = setTimeout(() => (timers.delete(t), resolve("slept")), ms);
          timers.add(t);
          ctx.signal.addEventListener("abort", () => (clearTimeout(t), timers.delete(t), resolve("aborted")));
        }),
    );
    server.tool("throws", {}, () => {
      throw new Error("boom");
    });
    server.tool(
      "structured",
      { input: z.object({ n: z.number() }), output: z.object({ n: z.number(), even: z.boolean() }) },
      ({ n }) => ({ n, even: n % 2 === 0 }),
    );
    server.tool("roots", {}, async (_a, ctx) => JSON.stringify(await ctx.listRoots()));
    server.tool("sample", {}, async (_a, ctx) => {
      const r = await ctx.sample({ messages: [{ role: "user", content: { type: "text", text: "hi" } }], maxTokens: 5 });
      return JSON.stringify(r.content);
    });
    server.tool("elicit", {}, async (_a, ctx) => {
      const r = await ctx.elicit("name?", z.object({ name: z.string() }));
      return r.action;
    });
    server.tool("chatty", {}, (_a, ctx) => {
      ctx.progress(1, 2, "half");
      ctx.log("warning", { fuzz: true });
      ctx.progress(2, 2);
      return "done";
    });
    extra = server.tool("extra", {}, () => "extra");
    server.tool("toggle", {}, () => (extra.enabled ? extra.disable() : extra.enable(), String(extra.enabled)));
    server.resource("file:///a.txt", { mimeType: "text/plain" }, () => "A");
    server.resource("file:///b.bin", {}, () => new Uint8Array([0, 1, 2, 255]));
    server.resource("file:///broken", {}, () => {
      throw new Error("unreadable");
    });
    server.resourceTemplate("users://{id}", {
      complete: { id: (v) => ["1", "2", "42"].filter((x) => x.startsWith(v)) },
      list: () => [{ uri: "users://1", name: "one" }],
    }, (_uri, { id }) => `user ${id}`);
    server.prompt("greet", {
      args: z.object({ name: z.string() }),
      complete: { name: (v) => ["Ada", "Alan"].filter((n) => n.startsWith(v)) },
    }, ({ name }) => `Hello, ${name}!`);
    server.prompt("plain", {}, () => "plain");
    h = start(server, { maxMessageBytes: LIMIT });
  });

  after(async () => {
    for (const t of timers) clearTimeout(t);
    await h.close({ timeout: 100 });
  });

  test(`${FRAMES} fuzzed frames, seed ${SEED}`, { timeout: 60_000 + FRAMES * 5 }, async () => {
    const root = new Rng(SEED);
    const seeds = Array.from({ length: WORKERS }, () => root.int(2 ** 32));
    const perWorker = Math.ceil(FRAMES / WORKERS);
    const stats = { frames: 0, reconnects: 0, closes: {} as Record<string, number>, answers: 0 };

    // How a connection starts: initialize with a version and capabilities, or nothing (2026-07-28 or uninitialized).
    type Init = { version: string; capabilities: Record<string, unknown> } | undefined;

    async function open(init: Init): Promise<NetWsClient> {
      const c = await NetWsClient.open(h.url);
      if (!init) return c;
      c.sendText(JSON.stringify({
        jsonrpc: "2.0",
        id: "~init",
        method: "initialize",
        params: {
          protocolVersion: init.version,
          capabilities: init.capabilities,
          clientInfo: { name: "fuzz", version: "1" },
        },
      }));
      const res = JSON.parse(await c.next((t) => t.includes('"~init"')));
      assert.equal(res.result?.protocolVersion, init.version, `initialize: ${JSON.stringify(res)}`);
      c.sendText('{"jsonrpc":"2.0","method":"notifications/initialized"}');
      return c;
    }

    function send(c: NetWsClient, f: Out): void {
      if (!f.fragments) return c.sendFrame(f.opcode, f.bytes);
      const size = Math.ceil(f.bytes.length / f.fragments);
      for (let off = 0; off < f.bytes.length; off += size) {
        const last = off + size >= f.bytes.length;
        c.sendFrame(off === 0 ? f.opcode : 0, f.bytes.subarray(off, off + size), last);
        if (off === 0 && !last && f.pingBetween) c.sendFrame(0x9, new Uint8Array([42]));
      }
    }

    function show(f: Out): string {
      const text = new TextDecoder().decode(f.bytes.subarray(0, 300));
      return `${f.opcode === 2 ? "[binary] " : ""}${f.fragments ? `[${f.fragments} fragments] ` : ""}${
        JSON.stringify(text)
      }${f.bytes.length > 300 ? ` ... (${f.bytes.length} bytes)` : ""}`;
    }

    /** Replays each frame of a segment alone on a fresh connection: which ones close it, or go unanswered? */
    async function culprits(segment: Out[], init: Init): Promise<string> {
      const found: string[] = [];
      for (const f of segment) {
        const c = await open(init);
        send(c, f);
        c.sendText('{"jsonrpc":"2.0","id":"~probe","method":"ping"}');
        const pong = await Promise.race([c.next((t) => t.includes('"~probe"'), 5000), c.ended.then(() => null)])
          .catch(() => "no answer");
        if (pong === null || pong === "no answer") {
          found.push(`${pong ?? `closed (${c.closeCode ?? "tcp"})`}: ${show(f)}`);
        } else {
          const got = c.texts.map((t) => {
            try {
              return check(t);
            } catch (e) {
              found.push(`bad answer (${(e as Error).message.split("\n")[0]}): ${show(f)}`);
              return { ids: [], nullError: false };
            }
          });
          if (readSent(f).plainlyInvalid && !got.some((g) => g.nullError)) found.push(`no error: ${show(f)}`);
        }
        await c.close();
      }
      return found.length ? found.join("\n") : "(no single frame reproduces it alone)";
    }

    async function worker(w: number): Promise<void> {
      const r = new Rng(seeds[w]);
      let c: NetWsClient | undefined;
      let init: Init;
      let modern = false;
      let sent = new Map<string, number>(); // id -> requests sent on this connection
      let answered = new Map<string, number>();
      const fail = async (why: string, segment: Out[]): Promise<never> => {
        const replay = await culprits(segment, init).catch((e) => `(replay failed: ${e.message})`);
        throw new Error(
          `${why}\nreproduce with FUZZ_SEED=${SEED} FUZZ_FRAMES=${FRAMES} (worker ${w}, ${
            init ? `initialized with ${init.version}` : "no initialize"
          })\nframes that do it alone:\n${replay}\nthe segment:\n${segment.map(show).join("\n")}`,
        );
      };
      // Checks what the server sent; `plainlyInvalid` frames of a segment still open must each have had an error.
      const drain = async (segment: Out[], plainlyInvalid = 0) => {
        let nullErrors = 0;
        for (const t of c!.texts.splice(0)) {
          let got: ReturnType<typeof check> = { ids: [], nullError: false };
          try {
            got = check(t);
          } catch (e) {
            await fail(`bad frame from the server: ${(e as Error).message}\n${t.slice(0, 500)}`, segment);
          }
          if (got.nullError) nullErrors++;
          for (const id of got.ids) {
            stats.answers++;
            if (id === null) continue;
            const key = JSON.stringify(id);
            const n = (answered.get(key) ?? 0) + 1;
            answered.set(key, n);
            if (n > (sent.get(key) ?? 0)) {
              await fail(`id ${key} answered ${n} times but sent ${sent.get(key) ?? 0} times`, segment);
            }
          }
        }
        if (nullErrors < plainlyInvalid) {
          await fail(
            `${plainlyInvalid} frames were not JSON-RPC at all, but only ${nullErrors} errors came back`,
            segment,
          );
        }
      };

      let n = 0;
      let round = 0;
      while (n < perWorker) {
        if (!c) {
          modern = r.chance(0.15);
          init = modern || r.chance(0.1) ? undefined : {
            version: r.pick(["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]),
            capabilities: r.pick([{}, { roots: {}, sampling: {}, elicitation: {} }]),
          };
          c = await open(init);
          sent = new Map();
          answered = new Map();
        }
        const conn = c;
        const segment: Out[] = [];
        const mayClose = new Set<number | "tcp">();
        let plainlyInvalid = 0;
        for (let i = 0; i < SEGMENT && n < perWorker; i++, n++) {
          const f = frame(r, modern);
          segment.push(f);
          for (const m of f.mayClose) mayClose.add(m);
          const read = readSent(f);
          for (const id of read.ids) sent.set(id, (sent.get(id) ?? 0) + 1);
          if (read.plainlyInvalid) plainlyInvalid++;
          send(conn, f);
          stats.frames++;
        }
        // Liveness: a ping after the segment is answered, unless the server had a reason to close.
        const ping = `~alive-${w}-${round++}`;
        conn.sendText(`{"jsonrpc":"2.0","id":"${ping}","method":"ping"}`);
        const pong = await Promise.race([
          conn.next((t) => t.includes(`"${ping}"`), 10_000),
          conn.ended.then(() => null),
        ])
          .catch((e: Error) => fail(`no answer to the liveness ping: ${e.message}`, segment));
        if (pong === null || conn.isEnded) {
          const code = conn.closeCode ?? "tcp";
          if (!mayClose.has(code)) {
            await fail(`the server closed the socket (${code}) with no reason in this segment`, segment);
          }
          stats.closes[code] = (stats.closes[code] ?? 0) + 1;
          stats.reconnects++;
          await drain(segment);
          c = undefined;
          continue;
        }
        assert.deepEqual(JSON.parse(pong), { jsonrpc: "2.0", id: ping, result: {} });
        await drain(segment, plainlyInvalid);
      }
      if (c) {
        await c.close();
        await drain([]);
      }
    }

    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    assert.ok(stats.frames >= FRAMES, `${stats.frames} frames sent`);
    assert.ok(stats.answers > 0);

    // No closed session is retained, and a fresh client is served normally.
    await waitFor(() => server.sessions.size === 0 && h.connections === 0, "every fuzz session to be released");
    extra.enable();
    const fresh = await RawClient.ready(h.url);
    assert.equal(server.sessions.size, 1);
    const res = await fresh.call("echo", { text: "after the storm" });
    assert.deepEqual(res.result, { content: [{ type: "text", text: "after the storm" }] });
    const add = await fresh.call("add", { a: 2, b: 40 });
    assert.equal(add.result.content[0].text, "42");
    const tools: string[] = [];
    for (let cursor: string | undefined, page = 0; page < 20; page++) {
      const list = await fresh.request("tools/list", cursor ? { cursor } : {});
      tools.push(...list.result.tools.map((t: { name: string }) => t.name));
      cursor = list.result.nextCursor;
      if (!cursor) break;
    }
    assert.equal(tools.length, 12);
    await fresh.close();
    await waitFor(() => server.sessions.size === 0, "the fresh session to be released");
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    console.log(`fuzz seed ${SEED}: ${JSON.stringify(stats)}`);
  });
});
