// One instance's side of a cluster (cluster.ts): its heartbeats and the bus's health, server-wide
// notifications relayed to and from the other instances, the HTTP endpoints that serve requests
// forwarded from them (forward.ts), and task updates and cancellations for the tasks it runs.
//
// Forwarding rather than shared session state: a session's in-flight handlers, its server→client
// requests and its event log live in the owner's memory, so the owner serves every request of the
// session wherever it arrives; its event log is bounded and replayed through any instance. Nothing of a
// session outlives its owner, which is what the spec's 404-then-re-initialize expects.

import type { ClusterTransport } from "../cluster.ts";
import type { Fanout, Notice } from "../_core/fanout.ts";
import { type Bus, type Endpoint, Forwarder } from "./forward.ts";
import { unref, within } from "../_util/timers.ts";
import { randomId } from "../_util/ids.ts";
import { errorText } from "../_util/values.ts";

// A transport carries one server's messages: a second server on it would take its subscriptions over.
const used = new WeakSet<ClusterTransport>();

const ID = /^[A-Za-z0-9_-]{12}$/;

/** The instance that opened the session `token`, when it names one. */
export function ownerOf(token: string): string | undefined {
  const owner = token.indexOf(".") === 12 ? token.slice(0, 12) : undefined;
  return owner && ID.test(owner) ? owner : undefined;
}

export class ClusterNode implements Bus {
  /** This instance: 9 random bytes, base64url. */
  readonly id: string;
  readonly heartbeat: number;
  #transport: ClusterTransport;
  #fanout: Fanout;
  #onTask: (message: Record<string, unknown>) => void;
  #log: (message: string) => void;
  // Topics are per server name, so that two servers on one bus stay apart.
  #name: string;
  #all: string;
  #mine: string;
  /** When each other instance was last heard from. */
  #peers = new Map<string, number>();
  #endpoints = new Set<Endpoint>();
  #forwarder: Forwarder;
  #users = 0;
  #timer?: ReturnType<typeof setInterval>;
  #lastTick = 0;
  #up = true;
  /** Since when this instance hears its topics; 0 while it does not. */
  #subscribedAt = 0;
  /** Since when it may trust what it heard: its topics heard, the bus up, and no stall of its own since. */
  #trustedFrom = 0;
  #subscribing = false;
  #retryAt = 0;
  #backoff = 0;
  /** When the bus last took a message: a heartbeat failing after that is stale news. */
  #lastOk = 0;
  #counts = false;
  #listener = (message: string) => this.#receive(message);
  #echo: string;

  /**
   * `name`: the server's, which names its topics on the bus; `fanout` sends and receives the server-wide
   * notifications; `onTask` takes what other instances ask of the tasks this one runs.
   */
  constructor(
    name: string,
    transport: ClusterTransport,
    fanout: Fanout,
    onTask: (message: Record<string, unknown>) => void,
  ) {
    if (used.has(transport)) {
      throw new TypeError("this cluster transport already serves another McpServer: create one per server");
    }
    used.add(transport);
    this.id = randomId(9);
    this.heartbeat = Math.max(10, transport.heartbeat ?? 1000);
    this.#transport = transport;
    this.#fanout = fanout;
    this.#onTask = onTask;
    this.#log = transport.log ?? ((m) => console.error(m));
    this.#name = name;
    this.#all = `${this.#name}/all`;
    this.#mine = `${this.#name}/to.${this.id}`;
    this.#forwarder = new Forwarder(this, this.#endpoints);
    this.#echo = `{"f":"${this.id}"`;
  }

  /** Whether the bus works and this instance hears its topics. */
  get up(): boolean {
    return this.#up && this.#subscribedAt > 0;
  }

  /**
   * Whether this instance has heard its topics for three heartbeats, long
   * enough to have heard every live one: not after a start, a bus outage or
   * a stall of its own event loop (what it missed meanwhile is still queued).
   */
  get settled(): boolean {
    return this.#subscribedAt > 0 && Date.now() - this.#trustedFrom > this.heartbeat * 3;
  }

  get counts(): boolean {
    return this.#counts;
  }

  alive(peer: string): boolean {
    return this.lastHeard(peer) > Date.now() - this.heartbeat * 3;
  }

  lastHeard(peer: string): number {
    return this.#peers.get(peer) ?? 0;
  }

  sendTo(peer: string, msg: Record<string, unknown>): Promise<number | void> {
    return this.#send(`${this.#name}/to.${peer}`, msg);
  }

  /** A transport of this server starts serving (HTTP ones also serve forwarded requests); call the result when it stops. */
  attach(endpoint?: Endpoint): () => void {
    if (endpoint) this.#endpoints.add(endpoint);
    if (this.#users++ === 0) this.#start();
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      if (endpoint) this.#endpoints.delete(endpoint);
      if (--this.#users === 0) this.#stop();
    };
  }

  /** Forwards a request for a session `owner` holds; see {@linkcode Forwarder.forward}. */
  forward(owner: string, req: Request, body: string | undefined, maxBuffered: number): Promise<Response> {
    return this.#forwarder.forward(owner, req, body, maxBuffered);
  }

  #start(): void {
    const started = this.#lastTick = Date.now();
    this.#fanout.relay = (n) => {
      // Registrations while the server starts (no client yet, first heartbeat) are its configuration, not news for
      // the other instances' clients.
      if (n.t === "changed" && !this.#fanout.sessions.size && Date.now() - started < this.heartbeat) return;
      // While the bus is down, notifications for other instances are dropped rather than queued without bound.
      if (this.#up) this.#send(this.#all, n).catch(() => {});
    };
    void this.#subscribe();
    this.#timer = setInterval(() => this.#tick(), this.heartbeat);
    unref(this.#timer); // the heartbeat alone does not keep a process alive
    this.#beat();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#fanout.relay = undefined;
    this.#subscribedAt = 0;
    this.#forwarder.stop();
    Promise.resolve(this.#transport.close?.()).catch(() => {});
  }

  async #subscribe(): Promise<void> {
    if (this.#subscribing) return;
    this.#subscribing = true;
    try {
      await within(
        Promise.all([
          this.#transport.subscribe(this.#all, this.#listener),
          this.#transport.subscribe(this.#mine, this.#listener),
        ]),
        Math.max(this.heartbeat * 5, 2000),
      );
      if (this.#timer === undefined) return; // stopped meanwhile
      this.#subscribedAt = this.#trustedFrom = Date.now();
      this.#backoff = 0;
      this.#isUp();
    } catch (err) {
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
      `MCP cluster: the bus is unreachable (${errorText(err)}). Local sessions keep working; until it is back, ` +
        `notifications to other instances are dropped and requests for their sessions get 503. Retrying.`,
    );
  }

  #isUp(): void {
    if (this.#up) return;
    this.#up = true;
    // The others were unreachable too: give them time to be heard again before taking silence for death.
    this.#trustedFrom = Date.now();
    this.#log("MCP cluster: the bus is back.");
  }

  #send(topic: string, msg: Record<string, unknown>): Promise<number | void> {
    try {
      // The sender first, so that an instance drops its own messages (the bus echoes them) without parsing them.
      return Promise.resolve(this.#transport.publish(topic, JSON.stringify({ f: this.id, ...msg })));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // A beat tells the others this instance lives; a ping to its own topic tells it whether it still hears (a bus that
  // restarted forgets subscriptions). Both have a deadline: a client queueing commands while disconnected would
  // otherwise never answer. Only failures newer than the last success count.
  #beat(): void {
    const sent = Date.now();
    const deadline = this.heartbeat * 2;
    const failed = (err: unknown) => sent > this.#lastOk && this.#down(err);
    within(this.#send(this.#all, { t: "beat" }), deadline).then(() => (this.#lastOk = Date.now()), failed);
    within(this.#send(this.#mine, { t: "ping" }), deadline).then((n) => {
      this.#lastOk = Date.now();
      if (typeof n === "number") this.#counts = true;
      if (n !== 0 && this.#subscribedAt > 0) return this.#isUp();
      if (sent < this.#subscribedAt) return; // sent before the subscription it says is missing
      // Nobody hears this instance's topic: answers to its forwarded requests may be lost; subscribe again.
      if (this.#subscribedAt > 0) this.#forwarder.lost();
      this.#subscribedAt = 0;
      if (Date.now() >= this.#retryAt) void this.#subscribe();
    }, failed);
  }

  #tick(): void {
    const now = Date.now();
    // A tick this late means this instance's event loop stalled: the messages it missed are still queued, so what it
    // last heard of the others is stale.
    const stalled = now - this.#lastTick > this.heartbeat * 2;
    if (stalled) this.#trustedFrom = now;
    this.#lastTick = now;
    this.#beat();
    if (!this.up) this.#forwarder.lost();
    this.#forwarder.tick(now, stalled);
    for (const [id, seen] of this.#peers) if (seen < now - this.heartbeat * 30) this.#peers.delete(id);
  }

  // A message from the bus: another instance's beat, notification, or part of a forwarded request.
  #receive(text: string): void {
    if (text.startsWith(this.#echo)) return;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    const from = m?.f;
    if (typeof from !== "string" || from === this.id || !ID.test(from)) return;
    this.#peers.set(from, Date.now());
    switch (m.t) {
      case "beat":
        return;
      case "updated":
      case "log":
      case "changed":
        return this.#fanout.deliver(m as unknown as Notice);
      case "task":
        return this.#onTask(m);
      default:
        return this.#forwarder.receive(from, m);
    }
  }
}
