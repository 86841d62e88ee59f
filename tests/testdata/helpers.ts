// Test helpers: a server on a random port and a raw WebSocket client that
// sends exactly the frames a test writes.
import { existsSync } from "node:fs";
import assert from "node:assert/strict";
import { McpClientError } from "../../client.ts";
import { McpServer, serve, type ServeHandle, type ServeOptions } from "../../mod.ts";
import { encodeFrame, FrameReader } from "../../bench/ws_frames.ts";
import process from "node:process";

export interface Frame {
  jsonrpc: "2.0";
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  // deno-lint-ignore no-explicit-any
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

/** Serves `server` on a free loopback port. */
export function start(server: McpServer, options: ServeOptions = {}): ServeHandle {
  return serve(server, { port: 0, ...options });
}

/** A bare server with nothing registered. */
export function emptyServer(): McpServer {
  return new McpServer({ name: "test", version: "0.0.1" });
}

const TIMEOUT = 5000;

/** A WebSocket client that queues every frame it receives. */
export class RawClient {
  ws: WebSocket;
  frames: Frame[] = [];
  raw: string[] = [];
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  #nextId = 1000;
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;

  constructor(url: URL | string, protocols: string | string[] = "mcp") {
    this.ws = new WebSocket(url, protocols);
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener("open", () => resolve(), { once: true });
      this.ws.addEventListener("error", () => reject(new Error("websocket error")), { once: true });
    });
    this.closed = new Promise((resolve) =>
      this.ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }), { once: true })
    );
    this.ws.addEventListener("message", (e) => {
      const text = String(e.data);
      this.raw.push(text);
      // A batch response arrives as one array "frame".
      const f = JSON.parse(text) as Frame;
      const i = this.#waiters.findIndex((w) => w.match(f));
      if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(f);
      else this.frames.push(f);
    });
  }

  static async connect(url: URL | string, protocols?: string | string[]): Promise<RawClient> {
    const c = new RawClient(url, protocols);
    await c.opened;
    return c;
  }

  /** Connects and completes the initialize handshake. */
  static async ready(
    url: URL | string,
    capabilities: Record<string, unknown> = {},
    version = "2025-11-25",
  ): Promise<RawClient> {
    const c = await RawClient.connect(url);
    const res = await c.request("initialize", {
      protocolVersion: version,
      capabilities,
      clientInfo: { name: "raw", version: "1" },
    });
    if (res.error) throw new Error(`initialize failed: ${res.error.message}`);
    c.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    return c;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits for the first frame (queued or future) that matches. */
  next(match: (f: Frame) => boolean = () => true, timeout = TIMEOUT): Promise<Frame> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (f: Frame) => (clearTimeout(t), resolve(f)),
      };
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(
          new Error(`no matching frame within ${timeout} ms; queued: ${JSON.stringify(this.frames).slice(0, 500)}`),
        );
      }, timeout);
      this.#waiters.push(w);
    });
  }

  /** Sends a request and waits for its response. */
  request(method: string, params?: Record<string, unknown>, id: string | number = this.#nextId++): Promise<Frame> {
    this.send(params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params });
    return this.next((f) => f.id === id && f.method === undefined);
  }

  /** Calls a tool and returns the JSON-RPC response frame. */
  call(name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>): Promise<Frame> {
    return this.request("tools/call", meta ? { name, arguments: args, _meta: meta } : { name, arguments: args });
  }

  /** Waits for a notification with this method. */
  notification(method: string, timeout?: number): Promise<Frame> {
    return this.next((f) => f.method === method && f.id === undefined, timeout);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

/** The runtime under test, for messages. */
export const runtimeName = "Bun" in globalThis ? "bun" : "deno";

// ---------------------------------------------------------------------------
// A WebSocket client over a bare TCP socket (node:net), for frames a WebSocket
// API cannot send: invalid UTF-8 in text frames, any opcode, fragments, partial
// frames, or an upgrade that never sends anything. Used by hostile and fuzz tests.
// Its frames are encoded and read by bench/ws_frames.ts, the codec the benchmarks' raw clients use too.

/** A WebSocket client on node:net that writes exactly the (masked) frames a test asks for. */
export class NetWsClient {
  readonly socket: import("node:net").Socket;
  /** Text messages received (reassembled from fragments) that no waiter took. */
  texts: string[] = [];
  /** The code of the server's close frame; undefined if none arrived (e.g. the TCP connection just ended). */
  closeCode?: number;
  /** Resolves when the TCP connection is gone. */
  readonly ended: Promise<void>;
  #ended = false;
  /** Bytes of the upgrade response read so far; undefined once upgraded. */
  #head: Uint8Array | undefined = new Uint8Array(0);
  #frames = new FrameReader((opcode, fin, payload) => this.#frame(opcode, fin, payload!));
  #onHead?: (head: string) => void;
  #frag: Uint8Array[] = [];
  #fragOpcode = 0;
  #waiters: { match: (t: string) => boolean; resolve: (t: string) => void }[] = [];

  private constructor(socket: import("node:net").Socket) {
    this.socket = socket;
    this.ended = new Promise((resolve) => socket.once("close", () => (this.#ended = true, resolve())));
    socket.on("error", () => {});
    socket.on("data", (d: Uint8Array) => this.#data(d));
  }

  /** Whether the TCP connection is gone. */
  get isEnded(): boolean {
    return this.#ended;
  }

  /** Opens a TCP connection and performs the WebSocket upgrade (offering `protocol` unless empty). */
  static async open(url: URL | string, protocol = "mcp", timeout = TIMEOUT): Promise<NetWsClient> {
    const { connect } = await import("node:net");
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) });
      socket.setNoDelay(true);
      const c = new NetWsClient(socket);
      const timer = setTimeout(() => (socket.destroy(), reject(new Error("WebSocket upgrade timed out"))), timeout);
      socket.once("error", (e: Error) => (clearTimeout(timer), reject(e)));
      c.#onHead = (head) => {
        clearTimeout(timer);
        if (/^HTTP\/1\.1 101 /.test(head)) return resolve(c);
        socket.destroy();
        reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
      };
      socket.once("connect", () => {
        const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
        socket.write(
          `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
            (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") + "\r\n",
        );
      });
    });
  }

  /** Sends one masked frame: any opcode, any payload bytes, FIN or not. */
  sendFrame(opcode: number, payload: Uint8Array | string = new Uint8Array(0), fin = true): void {
    if (this.#ended || this.socket.destroyed) return;
    this.socket.write(encodeFrame(opcode, payload, fin));
  }

  /** Sends a text frame; bytes are sent as they are, valid UTF-8 or not. */
  sendText(text: string | Uint8Array): void {
    this.sendFrame(0x1, text);
  }

  /** Writes raw bytes to the socket (several frames at once, or part of one). */
  write(bytes: Uint8Array): void {
    if (!this.#ended && !this.socket.destroyed) this.socket.write(bytes);
  }

  /** Waits for the first text message (queued or future) that matches. */
  next(match: (t: string) => boolean = () => true, timeout = TIMEOUT): Promise<string> {
    const i = this.texts.findIndex(match);
    if (i >= 0) return Promise.resolve(this.texts.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (t: string) => (clearTimeout(timer), resolve(t)) };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`no matching text frame within ${timeout} ms; queued: ${this.texts.join(" ").slice(0, 500)}`));
      }, timeout);
      this.#waiters.push(w);
    });
  }

  /** Waits (bounded) for the TCP connection to end; rejects if it stays open. */
  async waitEnded(timeout = TIMEOUT): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the connection stayed open for ${timeout} ms`)), timeout);
    });
    try {
      await Promise.race([this.ended, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a close frame and waits (bounded) for the connection to end, then destroys it regardless. */
  async close(timeout = 2000): Promise<void> {
    if (this.#ended) return;
    this.sendFrame(0x8, new Uint8Array([0x03, 0xe8]));
    const timer = setTimeout(() => this.socket.destroy(), timeout);
    await this.ended;
    clearTimeout(timer);
  }

  /** Drops the TCP connection without a close frame. */
  destroy(): Promise<void> {
    this.socket.destroy();
    return this.ended;
  }

  #data(d: Uint8Array): void {
    if (this.#head) {
      const buf = concatBytes(this.#head, d);
      const end = headEnd(buf);
      if (end < 0) return void (this.#head = buf);
      this.#head = undefined;
      this.#onHead?.(new TextDecoder().decode(buf.subarray(0, end)));
      d = buf.subarray(end + 4);
    }
    this.#frames.push(d);
  }

  #frame(opcode: number, fin: boolean, payload: Uint8Array): void {
    if (opcode === 0x8) {
      this.closeCode = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
      this.sendFrame(0x8, payload.subarray(0, 2));
      this.socket.end();
      return;
    }
    if (opcode === 0x9) return this.sendFrame(0xa, payload);
    if (opcode === 0xa) return;
    if (opcode !== 0) (this.#fragOpcode = opcode, this.#frag = []);
    this.#frag.push(payload);
    if (!fin) return;
    const data = this.#frag.length === 1 ? this.#frag[0] : this.#frag.reduce(concatBytes);
    this.#frag = [];
    if (this.#fragOpcode !== 0x1) return;
    const text = new TextDecoder().decode(data);
    const i = this.#waiters.findIndex((w) => w.match(text));
    if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(text);
    else this.texts.push(text);
  }
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const { createServer: createTcpServer } = await import("node:net");
  const srv = createTcpServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (!a.length) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function headEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** Polls `cond` every 10 ms until it holds; fails after `timeout` ms naming `what`. */
export async function waitFor(cond: () => boolean, what: string, timeout = TIMEOUT): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A promise with its resolve function outside. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}

/** A promise to resolve later, from outside. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Awaits `p`, failing with a message naming `what` if it has not settled
 * within `ms` (default 5 s) instead of hanging; the timer is always cleared.
 * Takes `(p, ms, what)`, `(p, what)` or `(p, what, ms)`.
 */
export async function within<T>(p: Promise<T>, a: number | string, b?: number | string): Promise<T> {
  const ms = typeof a === "number" ? a : typeof b === "number" ? b : TIMEOUT;
  const what = typeof a === "string" ? a : String(b);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Splits an SSE body into the JSON messages of its data events. */
export function sseMessages(body: string): Frame[] {
  return body.split("\n\n").map((ev) =>
    ev.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n")
  ).filter((d) => d).map((d) => JSON.parse(d));
}

// ---------------------------------------------------------------------------
// Child processes: commands run as a person would run them.

/** How a child process ended. */
export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode run} and {@linkcode launch}. */
export interface RunOptions {
  cwd?: string;
  /** Added to (or, where a value is undefined, removed from) this process's environment. */
  env?: Record<string, string | undefined>;
  /** Written to standard input, which is then closed (at once when there is none). */
  input?: string;
  /** Milliseconds before the process (group) is killed and the run fails. Default 60,000. */
  timeout?: number;
}

function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const [k, v] of Object.entries({ ...process.env, ...extra })) if (v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete out[k];
  return out;
}

/** Runs `cmd` to completion; kills its process group and fails after `timeout`. */
export async function run(cmd: string, args: string[], options: RunOptions = {}): Promise<Exited> {
  const child = await launch(cmd, args, options);
  return await child.exited;
}

/** A child process still running, with what it printed so far. */
export interface Launched {
  readonly stdout: string;
  readonly stderr: string;
  /** Settles when it exits; rejects when it outlives its timeout (it is killed then). */
  readonly exited: Promise<Exited>;
  /** Kills the process group and waits for the exit. */
  kill(): Promise<Exited>;
}

/** Starts `cmd` in its own process group. */
export async function launch(cmd: string, args: string[], options: RunOptions = {}): Promise<Launched> {
  const { spawn } = await import("node:child_process");
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdin!.end(options.input); // nothing to read: a child that waits on its input sees the end at once
  const killGroup = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  };
  const ms = options.timeout ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = new Promise<Exited>((resolve, reject) => {
    timer = setTimeout(() => {
      killGroup();
      reject(new Error(`${cmd} ${args.join(" ")} did not finish within ${ms} ms; stderr:\n${stderr.slice(-2000)}`));
    }, ms);
    child.on("error", (e) => (clearTimeout(timer), reject(e)));
    child.on("close", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
  exited.catch(() => {}); // a caller that only kills does not await it
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) killGroup();
      return await exited.catch(() => ({ code: null, stdout, stderr }));
    },
  };
}

/** Waits until something accepts TCP connections on `port` (127.0.0.1), or `child` exits first. */
export async function listening(port: number, child: Launched, timeout = 60_000): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeout;
  let gone = false;
  child.exited.then(() => (gone = true), () => (gone = true));
  while (true) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (gone) throw new Error(`the process exited before listening on ${port}:\n${child.stderr}${child.stdout}`);
    if (Date.now() > deadline) throw new Error(`nothing listened on ${port} within ${timeout} ms:\n${child.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------
// Streamable HTTP by hand

/** The body of an `initialize` request (id 1, 2025-11-25, no capabilities) from a client called `name`. */
export function initializeBody(name = "test"): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name, version: "1" } },
  });
}

/** Opens a Streamable HTTP session at `url` (2025-11-25); resolves with the headers that name it on later requests. */
export async function openHttpSession(url: URL | string, name = "test"): Promise<Record<string, string>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: initializeBody(name),
  });
  const body = await res.text();
  const sid = res.headers.get("mcp-session-id");
  if (res.status !== 200 || !sid) throw new Error(`initialize at ${url} got ${res.status}: ${body}`);
  return { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
}

// ---------------------------------------------------------------------------
// Headless Chromium: Debian's chromium.

export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests skip, or false: in CI (CI=true, or REQUIRE_BROWSER=1) a missing Chromium fails them. */
export const chromiumSkip: string | false =
  existsSync(CHROMIUM) || process.env.CI === "true" || process.env.REQUIRE_BROWSER === "1"
    ? false
    : `skipped: ${CHROMIUM} is missing (apt-get install -y chromium to run the browser test)`;

/** The flags every headless Chromium of the tests starts with. */
export const HEADLESS_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Loads `url` in headless Chromium with a fresh profile in `profile`, and gives the DOM once its scripts are done. */
export function dumpDom(url: string | URL, profile: string, options: RunOptions = {}): Promise<Exited> {
  return run(CHROMIUM, [
    ...HEADLESS_FLAGS,
    `--user-data-dir=${profile}`,
    "--dump-dom",
    String(url),
  ], options);
}

/** Expects `p` to reject with an McpClientError of `code` (and a message matching `message`). */
export async function rejectsWith(p: Promise<unknown>, code: number, message?: RegExp): Promise<McpClientError> {
  try {
    await within(p, `an error ${code}`);
  } catch (e) {
    assert.ok(e instanceof McpClientError, `expected McpClientError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected a rejection with code ${code}`);
}

// ---------------------------------------------------------------------------
// Redis: Debian's redis-server, one per test run on a free port.

/** Why the Redis tests skip, or false: outside CI a missing redis-server skips them; in CI (CI=true) it fails them. */
export const redisSkip: string | false = existsSync("/usr/bin/redis-server") ||
    process.env.CI === "true"
  ? false
  : "redis-server is not installed (apt-get install redis-server; CI installs it)";

/** A redis-server of this test run, started as README shows it (`--save ""`), on a port of its own. */
export class RedisServer {
  child?: Launched;
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = await launch("/usr/bin/redis-server", ["--port", String(this.port), "--save", ""], {
      timeout: 600_000,
    });
    await listening(this.port, this.child);
  }
  async stop(): Promise<void> {
    await this.child?.kill();
  }
}
