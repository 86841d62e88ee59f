// One instance's side of a cluster (cluster.ts): heartbeats, server-wide notifications relayed to and
// from the other instances, and Streamable HTTP requests forwarded to the instance that owns their
// session, with the answer (a JSON body, or an SSE stream chunk by chunk) carried back.
//
// Forwarding rather than shared session state: a session's in-flight handlers, its server→client
// requests and its event log live in the owner's memory, so the owner serves every request of the
// session wherever it arrives; its event log is bounded and replayed through any instance. Nothing of a
// session outlives its owner, which is what the spec's 404-then-re-initialize expects.

import type { ClusterTransport } from "./cluster.ts";
import type { McpServer } from "./server.ts";
import type { Fanout, Notice } from "./_fanout.ts";
import { ErrorCode } from "./jsonrpc.ts";
import { rpcError } from "./_http.ts";
import { describe } from "./_util.ts";

const nodes = new WeakMap<McpServer, ClusterNode>();

/** The cluster node of `server`, if it has the `cluster` option. */
export function clusterOf(server: McpServer): ClusterNode | undefined {
  return nodes.get(server);
}

const ALL = "all";
const to = (id: string) => `to.${id}`;
const ID = /^[A-Za-z0-9_-]{12}$/;
const enc = new TextEncoder();
// Request headers that belong to the hop, not to the request.
const HOP = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade"]);

/** The instance that opened the session `token`, when it names one. */
export function ownerOf(token: string): string | undefined {
  const dot = token.indexOf(".");
  const owner = dot === 12 ? token.slice(0, 12) : undefined;
  return owner && ID.test(owner) ? owner : undefined;
}

/** A request this instance forwarded, waiting for its answer. */
interface Outgoing {
  owner: string;
  since: number;
  maxBuffered: number;
  resolve: (res: Response) => void;
  /** Set once the owner answered with a stream. */
  controller?: ReadableStreamDefaultController<Uint8Array>;
}

/** A request another instance forwarded here. */
interface Incoming {
  from: string;
  reader?: ReadableStreamDefaultReader<Uint8Array>;
  cancelled: boolean;
}

/** An HTTP endpoint of this instance that serves forwarded requests. */
export interface ClusterEndpoint {
  path: string;
  fetch: (req: Request) => Promise<Response>;
}

const gone = () => rpcError(404, ErrorCode.InvalidRequest, "Session not found: initialize a new session");
const unavailable = () =>
  rpcError(503, ErrorCode.ConnectionClosed, "The session's instance cannot be reached: the cluster bus is down", {
    "Retry-After": "5",
  });

export class ClusterNode {
  /** This instance: 9 random bytes, base64url. */
  readonly id: string;
  readonly heartbeat: number;
  #transport: ClusterTransport;
  #fanout: Fanout;
  #log: (message: string) => void;
  /** When each other instance was last heard from. */
  #peers = new Map<string, number>();
  #out = new Map<number, Outgoing>();
  #in = new Map<string, Incoming>();
  #endpoints = new Map<string, ClusterEndpoint["fetch"]>();
  #rid = 0;
  #users = 0;
  #timer?: ReturnType<typeof setInterval>;
  #started = 0;
  #up = true;
  #subscribed = false;
  #subscribing = false;
  /** Whether the bus counts receivers (Redis does), learnt from the first heartbeat. */
  #counts = false;
  #retryAt = 0;
  #backoff = 0;
  #listener = (message: string) => this.#receive(message);

  constructor(server: McpServer, transport: ClusterTransport, fanout: Fanout) {
    const bytes = crypto.getRandomValues(new Uint8Array(9));
    this.id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
    this.heartbeat = Math.max(10, transport.heartbeat ?? 1000);
    this.#transport = transport;
    this.#fanout = fanout;
    this.#log = transport.log ?? ((m) => console.error(m));
    nodes.set(server, this);
  }

  /** Whether the bus works, as far as this instance knows. */
  get up(): boolean {
    return this.#up && this.#subscribed;
  }

  /** A transport of this server starts serving (and, for HTTP, serves forwarded requests); call the result when it stops. */
  attach(endpoint?: ClusterEndpoint): () => void {
    if (endpoint) this.#endpoints.set(endpoint.path, endpoint.fetch);
    if (this.#users++ === 0) this.#start();
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      if (endpoint && this.#endpoints.get(endpoint.path) === endpoint.fetch) this.#endpoints.delete(endpoint.path);
      if (--this.#users === 0) this.#stop();
    };
  }

  #start(): void {
    this.#started = Date.now();
    this.#fanout.relay = (n) => {
      // While the bus is down, notifications for other instances are dropped rather than queued without bound.
      if (this.#up) this.#send(ALL, n).catch(() => {});
    };
    void this.#subscribe();
    this.#timer = setInterval(() => this.#tick(), this.heartbeat);
    unref(this.#timer);
    this.#beat();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#fanout.relay = undefined;
    this.#subscribed = false;
    for (const rid of [...this.#out.keys()]) this.#fail(rid, false);
    for (const inc of this.#in.values()) this.#cancel(inc);
    this.#in.clear();
    Promise.resolve(this.#transport.close?.()).catch(() => {});
  }

  async #subscribe(): Promise<void> {
    if (this.#subscribing) return;
    this.#subscribing = true;
    try {
      await Promise.all([
        this.#transport.subscribe(ALL, this.#listener),
        this.#transport.subscribe(to(this.id), this.#listener),
      ]);
      if (this.#timer === undefined) return; // stopped meanwhile
      this.#subscribed = true;
      this.#backoff = 0;
      this.#isUp();
    } catch (err) {
      this.#subscribed = false;
      this.#down(err);
      this.#backoff = Math.min(30_000, Math.max(this.heartbeat, this.#backoff * 2));
      this.#retryAt = Date.now() + this.#backoff;
    } finally {
      this.#subscribing = false;
    }
  }

  #down(err: unknown): void {
    if (!this.#up) return;
    this.#up = false;
    this.#log(
      `MCP cluster: the bus is unreachable (${describe(err)}). Local sessions keep working; until it is back, ` +
        `notifications to other instances are dropped and requests for their sessions get 503. Retrying.`,
    );
  }

  #isUp(): void {
    if (this.#up) return;
    this.#up = true;
    this.#log("MCP cluster: the bus is back.");
  }

  #send(topic: string, msg: Record<string, unknown>): Promise<number | void> {
    msg.f = this.id;
    try {
      return Promise.resolve(this.#transport.publish(topic, JSON.stringify(msg)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // A beat tells the others this instance lives; a ping to its own topic tells it whether it still hears
  // (a bus that restarted forgets subscriptions). Both have a deadline: a client queueing commands while
  // disconnected would otherwise never answer.
  #beat(): void {
    const deadline = this.heartbeat * 2;
    within(this.#send(ALL, { t: "beat" }), deadline).catch((err) => this.#down(err));
    within(this.#send(to(this.id), { t: "ping" }), deadline).then((n) => {
      if (typeof n === "number") this.#counts = true;
      if (n !== 0 && this.#subscribed) return this.#isUp();
      // Nobody hears this instance's topic: subscribe again, backing off while that fails.
      this.#subscribed = false;
      if (Date.now() >= this.#retryAt) void this.#subscribe();
    }, (err) => this.#down(err));
  }

  #tick(): void {
    const now = Date.now();
    this.#beat();
    const dead = now - this.heartbeat * 3;
    for (const [rid, o] of this.#out) {
      if (!this.#up || Math.max(this.#peers.get(o.owner) ?? 0, o.since) < dead) this.#fail(rid, this.#up);
    }
    for (const [key, inc] of this.#in) {
      if ((this.#peers.get(inc.from) ?? 0) < dead) {
        this.#in.delete(key);
        this.#cancel(inc);
      }
    }
    for (const [id, seen] of this.#peers) if (seen < now - this.heartbeat * 10) this.#peers.delete(id);
  }

  // A message from the bus: another instance's notification, beat, forwarded request or answer.
  #receive(text: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    const from = m?.f;
    if (typeof from !== "string" || from === this.id) return;
    this.#peers.set(from, Date.now());
    switch (m.t) {
      case "beat":
        return;
      case "updated":
      case "log":
      case "changed":
        return this.#fanout.deliver(m as unknown as Notice);
      case "req":
        return this.#serve(from, m);
      case "head":
      case "data":
      case "end":
        return this.#answer(m);
      case "cancel": {
        const inc = this.#in.get(`${from}:${m.rid}`);
        if (inc) {
          this.#in.delete(`${from}:${m.rid}`);
          this.#cancel(inc);
        }
      }
    }
  }

  /**
   * Forwards a request for a session of `owner` and resolves with the
   * owner's answer; 404 when the owner is gone, 503 when the bus is down.
   */
  forward(owner: string, req: Request, body: string | undefined, maxBuffered: number): Promise<Response> {
    if (!this.up) return Promise.resolve(unavailable());
    const now = Date.now();
    // A bus that counts receivers (Redis) tells at once whether the owner listens. Otherwise: past three heartbeats
    // of uptime every live instance has been heard, so one that was not is gone.
    const seen = this.#peers.get(owner);
    if (!this.#counts && now - this.#started > this.heartbeat * 3 && !(seen! > now - this.heartbeat * 3)) {
      return Promise.resolve(gone());
    }
    const rid = ++this.#rid;
    const headers: [string, string][] = [];
    req.headers.forEach((v, k) => {
      if (!HOP.has(k)) headers.push([k, v]);
    });
    const url = new URL(req.url);
    return new Promise((resolve) => {
      this.#out.set(rid, { owner, since: now, maxBuffered, resolve });
      this.#send(to(owner), { t: "req", rid, method: req.method, path: url.pathname + url.search, headers, body })
        .then((n) => n === 0 && this.#fail(rid, true), () => this.#fail(rid, false));
    });
  }

  // A forwarded request that will get no answer: 404 when its owner is gone, 503 when the bus is; a stream
  // already under way just ends, and the client's resumption tells it the rest.
  #fail(rid: number, ownerGone: boolean): void {
    const o = this.#out.get(rid);
    if (!o) return;
    this.#out.delete(rid);
    if (!o.controller) return o.resolve(ownerGone ? gone() : unavailable());
    try {
      o.controller.close();
    } catch { /* cancelled */ }
  }

  #answer(m: Record<string, unknown>): void {
    const rid = m.rid as number;
    const o = this.#out.get(rid);
    if (!o) return;
    if (m.t === "head") {
      if (o.controller) return;
      const init = { status: m.status as number, headers: m.headers as [string, string][] };
      if (!m.stream) {
        this.#out.delete(rid);
        return o.resolve(new Response((m.body as string | undefined) ?? null, init));
      }
      const body = new ReadableStream<Uint8Array>(
        {
          start: (c) => void (o.controller = c),
          cancel: () => {
            if (this.#out.delete(rid)) this.#send(to(o.owner), { t: "cancel", rid }).catch(() => {});
          },
        },
        new ByteLengthQueuingStrategy({ highWaterMark: o.maxBuffered }),
      );
      return o.resolve(new Response(body, init));
    }
    const c = o.controller;
    if (!c) return;
    if (m.t === "end") {
      this.#out.delete(rid);
      try {
        c.close();
      } catch { /* cancelled */ }
      return;
    }
    try {
      c.enqueue(enc.encode(m.chunk as string));
    } catch {
      return;
    }
    // A client that stops reading loses this connection, not the events: it can resume, as on the owner.
    if ((c.desiredSize ?? 0) < 0) {
      this.#out.delete(rid);
      c.close();
      this.#send(to(o.owner), { t: "cancel", rid }).catch(() => {});
    }
  }

  // A request forwarded here: answered by the endpoint at its path, as if it had come directly.
  #serve(from: string, m: Record<string, unknown>): void {
    const rid = m.rid;
    const reply = (msg: Record<string, unknown>) => this.#send(to(from), { ...msg, rid }).catch(() => {});
    const path = typeof m.path === "string" ? m.path : "";
    const fetch = this.#endpoints.get(path.split("?")[0]);
    let req: Request;
    try {
      if (!fetch) throw new Error("no endpoint");
      req = new Request(`http://cluster.invalid${path}`, {
        method: m.method as string,
        headers: m.headers as [string, string][],
        body: m.body as string | undefined,
      });
    } catch {
      return void reply({ t: "head", status: 404, headers: [["content-type", "text/plain"]], body: "Not Found\n" });
    }
    const key = `${from}:${rid}`;
    const inc: Incoming = { from, cancelled: false };
    this.#in.set(key, inc);
    fetch(req).then(async (res) => {
      const headers = [...res.headers];
      if (!res.body || !res.headers.get("content-type")?.startsWith("text/event-stream")) {
        const body = res.body ? await res.text() : undefined;
        this.#in.delete(key);
        if (!inc.cancelled) reply({ t: "head", status: res.status, headers, body });
        return;
      }
      inc.reader = res.body.getReader();
      if (inc.cancelled) return this.#cancel(inc);
      reply({ t: "head", status: res.status, headers, stream: true });
      const dec = new TextDecoder();
      try {
        for (;;) {
          const { done, value } = await inc.reader.read();
          if (done) break;
          reply({ t: "data", chunk: dec.decode(value, { stream: true }) });
        }
      } catch { /* cancelled */ }
      if (this.#in.get(key) === inc) this.#in.delete(key);
      if (!inc.cancelled) reply({ t: "end" });
    }, (err) => {
      this.#in.delete(key);
      reply({ t: "head", status: 500, headers: [["content-type", "text/plain"]], body: `${describe(err)}\n` });
    });
  }

  #cancel(inc: Incoming): void {
    inc.cancelled = true;
    inc.reader?.cancel().catch(() => {});
  }
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// The heartbeat must not keep a process alive by itself.
function unref(timer: unknown): void {
  const t = timer as { unref?: () => void };
  if (typeof t?.unref === "function") t.unref();
  else (globalThis as { Deno?: { unrefTimer?(id: unknown): void } }).Deno?.unrefTimer?.(timer);
}
