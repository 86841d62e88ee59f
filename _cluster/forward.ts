// Streamable HTTP requests forwarded between the instances of a cluster: a request that names a session
// another instance owns travels there over the bus, and the owner's answer (a JSON body, or an SSE stream
// chunk by chunk) travels back. The bus may lose a message, so every reply is numbered and the owner
// pulses each request it holds once per heartbeat: a gap, or a request no pulse mentions, ends the
// forwarded request (a stream's client resumes from the owner's event log), and an answer nobody waits
// for any more is cancelled on the owner, so that its session can expire.

import { ErrorCode } from "../jsonrpc.ts";
import { rpcError } from "../_util/http.ts";
import { errorText } from "../_util/values.ts";

/** What the forwarder needs of its cluster node. */
export interface Bus {
  readonly id: string;
  readonly heartbeat: number;
  /** Publishes to another instance's topic; resolves with the receivers when the bus counts them. */
  sendTo(peer: string, msg: Record<string, unknown>): Promise<number | void>;
  /** Whether the bus works and this instance hears its topic. */
  readonly up: boolean;
  /** Whether `peer` was heard from within three heartbeats. */
  alive(peer: string): boolean;
  /** When `peer` was last heard from; 0 if never (lately). */
  lastHeard(peer: string): number;
  /** Whether this instance has heard its topic long enough to know every live instance. */
  readonly settled: boolean;
  /** Whether the bus tells how many received a message (Redis does). */
  readonly counts: boolean;
}

/** An HTTP endpoint of this instance that serves forwarded requests. */
export interface Endpoint {
  path: string;
  fetch: (req: Request) => Promise<Response>;
  /** Whether it holds the session `token` (one server may serve two endpoints on one path, on two ports). */
  holds: (token: string) => boolean;
}

/** A request this instance forwarded, waiting for its answer. */
interface Outgoing {
  owner: string;
  /** When the owner last showed it holds this request. */
  heard: number;
  /** The number of the last reply received. */
  seq: number;
  maxBuffered: number;
  resolve: (res: Response) => void;
  /** Set once the owner answered with a stream. */
  controller?: ReadableStreamDefaultController<Uint8Array>;
}

/** A request another instance forwarded here. */
interface Incoming {
  from: string;
  rid: number;
  /** The number of the last reply sent. */
  seq: number;
  reader?: ReadableStreamDefaultReader<Uint8Array>;
  cancelled: boolean;
}

const enc = new TextEncoder();
// Request headers that belong to the hop, not to the request.
const HOP = new Set(["connection", "content-length", "transfer-encoding", "keep-alive", "upgrade"]);
// Response headers the requester's runtime sets for itself.
const HOP_OUT = new Set(["content-length", "transfer-encoding", "connection"]);

const gone = () => rpcError(404, ErrorCode.InvalidRequest, "Session not found: initialize a new session");
const unavailable = () =>
  rpcError(503, ErrorCode.ConnectionClosed, "The session's instance cannot be reached now: retry", {
    "Retry-After": "2",
  });

export class Forwarder {
  #out = new Map<number, Outgoing>();
  #in = new Map<string, Incoming>();
  #rid = 0;

  constructor(private readonly bus: Bus, private readonly endpoints: Set<Endpoint>) {}

  /**
   * Forwards a request for a session of `owner`; resolves with the owner's
   * answer, 404 when the owner is gone, 503 when it cannot be reached now.
   */
  forward(owner: string, req: Request, body: string | undefined, maxBuffered: number): Promise<Response> {
    const bus = this.bus;
    if (!bus.up) return Promise.resolve(unavailable());
    // Without receiver counts, an instance settled in has heard every live one: one it never heard, or not for ten
    // heartbeats (longer than any pause of a live one), is gone.
    if (!bus.counts && bus.settled && Date.now() - bus.lastHeard(owner) > bus.heartbeat * 10) {
      return Promise.resolve(gone());
    }
    const rid = ++this.#rid;
    const headers: [string, string][] = [];
    req.headers.forEach((v, k) => {
      if (!HOP.has(k)) headers.push([k, v]);
    });
    return new Promise((resolve) => {
      this.#out.set(rid, { owner, heard: Date.now(), seq: -1, maxBuffered, resolve });
      bus.sendTo(owner, { t: "req", rid, method: req.method, url: req.url, headers, body }).then(
        (n) => n === 0 && this.#fail(rid, this.#ownerGone(owner)),
        () => this.#fail(rid, false),
      );
    });
  }

  // Nobody listens for the owner: gone, unless it was heard lately (it may be resubscribing after a bus restart) or
  // this instance has just (re)joined and cannot tell yet.
  #ownerGone(owner: string): boolean {
    return this.bus.up && this.bus.settled && !this.bus.alive(owner);
  }

  /** A message of the forwarding protocol from `from`. */
  receive(from: string, m: Record<string, unknown>): void {
    switch (m.t) {
      case "req":
        return this.#serve(from, m);
      case "head":
      case "data":
      case "end":
        return this.#reply(from, m);
      case "pulse":
        return this.#pulse(from, m);
      case "hold?":
        return this.#holds(from, m);
      case "held":
        return this.#held(from, m);
      case "cancel": {
        const inc = this.#in.get(`${from}:${m.rid}`);
        if (inc) this.#cancel(inc);
      }
    }
  }

  /**
   * Once per heartbeat. As the owner: pulses the requests held for each
   * requester, and lets go of those of a requester that died. As the
   * requester: asks after each forwarded request no pulse has mentioned for
   * two heartbeats, and ends those that are lost or whose owner is gone.
   * Right after a stall of this instance nothing is judged: what the others
   * sent meanwhile still waits to be read.
   */
  tick(now: number, stalled: boolean): void {
    const bus = this.bus;
    const hb = bus.heartbeat;
    if (!stalled) {
      const byFrom = new Map<string, Incoming[]>();
      for (const inc of this.#in.values()) {
        let list = byFrom.get(inc.from);
        if (!list) byFrom.set(inc.from, list = []);
        list.push(inc);
      }
      for (const [from, list] of byFrom) {
        // A requester that no longer hears its topic, or (without receiver counts) is no longer heard, died:
        // nobody reads what is sent to it.
        if (bus.settled && !bus.counts && !bus.alive(from)) {
          for (const inc of list) this.#cancel(inc);
          continue;
        }
        bus.sendTo(from, { t: "pulse", reqs: list.map((inc) => [inc.rid, inc.seq]) }).then((n) => {
          if (n === 0) { for (const inc of list) this.#cancel(inc); }
        }, () => {});
      }
    }
    const ask = new Map<string, number[]>();
    for (const [rid, o] of this.#out) {
      if (stalled) o.heard = now;
      if (now - o.heard < hb * 2) continue;
      // Without receiver counts a busy owner and a dead one look alike: ten heartbeats of silence end the wait (503;
      // the client's retry then learns which). With counts, an owner that still listens is busy, and is waited for.
      if (!bus.counts && now - Math.max(bus.lastHeard(o.owner), o.heard) > hb * 10) {
        this.#fail(rid, this.#ownerGone(o.owner));
        continue;
      }
      let rids = ask.get(o.owner);
      if (!rids) ask.set(o.owner, rids = []);
      rids.push(rid);
    }
    for (const [owner, rids] of ask) {
      bus.sendTo(owner, { t: "hold?", rids }).then((n) => {
        if (n === 0) { for (const rid of rids) this.#fail(rid, this.#ownerGone(owner)); }
      }, () => {});
    }
  }

  /** The answers of forwarded requests may have been lost (this instance stopped hearing its topic). */
  lost(): void {
    for (const rid of [...this.#out.keys()]) this.#fail(rid, false);
  }

  /** The cluster stops: every forwarded request ends, every request held here is cancelled. */
  stop(): void {
    this.lost();
    for (const inc of [...this.#in.values()]) this.#cancel(inc);
  }

  // A forwarded request that will get no answer: 404 when its owner is gone, else 503; a stream already under way just
  // ends (its client resumes, and learns then). The owner is told, in case it still holds it.
  #fail(rid: number, ownerGone: boolean): void {
    const o = this.#out.get(rid);
    if (!o) return;
    this.#out.delete(rid);
    this.bus.sendTo(o.owner, { t: "cancel", rid }).catch(() => {});
    if (!o.controller) return o.resolve(ownerGone ? gone() : unavailable());
    try {
      o.controller.close();
    } catch { /* cancelled */ }
  }

  // A requester asks which of its requests this instance holds, and how far each got.
  #holds(from: string, m: Record<string, unknown>): void {
    if (!Array.isArray(m.rids)) return;
    const asked = m.rids.slice(0, 10_000);
    const reqs: [number, number][] = [];
    for (const rid of asked) {
      const inc = this.#in.get(`${from}:${rid}`);
      if (inc && !inc.cancelled) reqs.push([inc.rid, inc.seq]);
    }
    this.bus.sendTo(from, { t: "held", asked, reqs }).catch(() => {});
  }

  // The owner's answer. It left after every reply it had sent, and after the request it was asked about: one it does not
  // hold never reached it, or was answered and the answer lost.
  #held(from: string, m: Record<string, unknown>): void {
    if (!Array.isArray(m.asked) || !Array.isArray(m.reqs)) return;
    const held = new Map(m.reqs as [number, number][]);
    const now = Date.now();
    for (const rid of m.asked as number[]) {
      const o = this.#out.get(rid);
      if (!o || o.owner !== from) continue;
      const seq = held.get(rid);
      if (seq === undefined || seq > o.seq) this.#fail(rid, false);
      else o.heard = now;
    }
  }

  // Unasked news from the owner: the requests it holds for this instance, and how far each got.
  #pulse(from: string, m: Record<string, unknown>): void {
    if (!Array.isArray(m.reqs)) return;
    const now = Date.now();
    for (const entry of m.reqs) {
      if (!Array.isArray(entry)) continue;
      const [rid, seq] = entry as [number, number];
      const o = this.#out.get(rid);
      if (!o || o.owner !== from) {
        this.bus.sendTo(from, { t: "cancel", rid }).catch(() => {}); // an answer nobody waits for
        continue;
      }
      o.heard = now;
      if (seq > o.seq) this.#fail(rid, false); // a reply was lost on the way
    }
  }

  #reply(from: string, m: Record<string, unknown>): void {
    const rid = m.rid as number;
    const o = this.#out.get(rid);
    if (!o || o.owner !== from) {
      if (m.t !== "end") this.bus.sendTo(from, { t: "cancel", rid }).catch(() => {});
      return;
    }
    if (m.seq !== o.seq + 1) return this.#fail(rid, false);
    o.seq++;
    o.heard = Date.now();
    if (m.t === "head") {
      const init = { status: m.status as number, headers: m.headers as [string, string][] };
      if (!m.stream) {
        this.#out.delete(rid);
        return o.resolve(new Response((m.body as string | undefined) ?? null, init));
      }
      const body = new ReadableStream<Uint8Array>(
        {
          start: (c) => void (o.controller = c),
          cancel: () => {
            if (this.#out.delete(rid)) this.bus.sendTo(o.owner, { t: "cancel", rid }).catch(() => {});
          },
        },
        new ByteLengthQueuingStrategy({ highWaterMark: o.maxBuffered }),
      );
      return o.resolve(new Response(body, init));
    }
    const c = o.controller;
    if (!c) return this.#fail(rid, false);
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
      return this.#fail(rid, false);
    }
    // A client that stops reading loses this connection, not the events: it can resume, as on the owner.
    if ((c.desiredSize ?? 0) < 0) this.#fail(rid, false);
  }

  // A request forwarded here: answered by the endpoint at its path, as if it had come directly.
  #serve(from: string, m: Record<string, unknown>): void {
    const rid = m.rid;
    if (typeof rid !== "number") return;
    const inc: Incoming = { from, rid, seq: -1, cancelled: false };
    const key = `${from}:${rid}`;
    if (this.#in.has(key)) return;
    const send = (msg: Record<string, unknown>) => {
      msg.rid = rid;
      msg.seq = ++inc.seq;
      return this.bus.sendTo(from, msg).then((n) => {
        if (n === 0) this.#cancel(inc); // the requester is gone
      }, () => {});
    };
    let req: Request;
    let endpoint: Endpoint | undefined;
    try {
      const url = new URL(m.url as string);
      req = new Request(url, {
        method: m.method as string,
        headers: m.headers as [string, string][],
        body: m.body as string | undefined,
      });
      const token = req.headers.get("mcp-session-id") ?? "";
      for (const e of this.endpoints) {
        if (e.path === url.pathname && (!endpoint || e.holds(token))) endpoint = e;
      }
      if (!endpoint) throw new Error("no endpoint");
    } catch {
      void send({ t: "head", status: 404, headers: [["content-type", "text/plain"]], body: "Not Found\n" });
      return;
    }
    this.#in.set(key, inc);
    endpoint.fetch(req).then(async (res) => {
      const headers = [...res.headers].filter(([k]) => !HOP_OUT.has(k));
      if (!res.body || !res.headers.get("content-type")?.startsWith("text/event-stream")) {
        const body = res.body ? await res.text() : undefined;
        if (this.#in.get(key) === inc) this.#in.delete(key);
        if (!inc.cancelled) void send({ t: "head", status: res.status, headers, body });
        return;
      }
      inc.reader = res.body.getReader();
      if (inc.cancelled) return void inc.reader.cancel().catch(() => {});
      await send({ t: "head", status: res.status, headers, stream: true });
      const dec = new TextDecoder();
      try {
        // One chunk at a time: a slow bus holds the stream back instead of queueing without bound.
        while (!inc.cancelled) {
          const { done, value } = await inc.reader.read();
          if (done) break;
          await send({ t: "data", chunk: dec.decode(value, { stream: true }) });
        }
      } catch { /* cancelled */ }
      if (this.#in.get(key) === inc) this.#in.delete(key);
      if (!inc.cancelled) void send({ t: "end" });
    }, (err) => {
      if (this.#in.get(key) === inc) this.#in.delete(key);
      void send({ t: "head", status: 500, headers: [["content-type", "text/plain"]], body: `${errorText(err)}\n` });
    });
  }

  #cancel(inc: Incoming): void {
    const key = `${inc.from}:${inc.rid}`;
    if (this.#in.get(key) === inc) this.#in.delete(key);
    if (inc.cancelled) return;
    inc.cancelled = true;
    inc.reader?.cancel().catch(() => {});
  }
}
