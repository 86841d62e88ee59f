// Test helpers: a server on a random port and a raw WebSocket client that
// sends exactly the frames a test writes.
import { McpServer, serve, type ServeHandle, type ServeOptions } from "../mod.ts";

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
