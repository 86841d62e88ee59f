// The client's subscriptions: `resources/subscribe` (2025 protocols) and
// `subscriptions/listen` streams (protocol 2026-07-28). A listen is a request
// that stays open, acknowledged by a notification naming its id, and sent
// again after a reconnection; stopping one cancels its request. The
// notifications they bring reach the Client's listeners as any other.

import { ErrorCode, type JsonRpcNotification, type RequestId } from "../jsonrpc.ts";
import type { ListenFilter, Listening, NotificationListener, RequestOptions, ServerCapabilities } from "../client.ts";
import { McpClientError } from "./error.ts";
import { abortReason, type Outbound } from "./outbound.ts";
import { MAX_TIMER } from "../_util/timers.ts";
import { envelope, filterOf, type Scope, subscriptionIdOf } from "./per_request.ts";

/** One listen the user (or a subscription) keeps open, across reconnections. */
export interface ListenState {
  filter: ListenFilter;
  honoured: ListenFilter;
  onNotification?: NotificationListener;
  /** The id of its current request, which its notifications name. */
  id?: RequestId;
  /** Aborting it cancels the current request. */
  ctrl?: AbortController;
  /** Settles the wait for the acknowledgement, while there is one. */
  ack?: (filter: ListenFilter) => void;
  /** Whether its request is out (or waits for the connection to go out); then it needs no restoring. */
  pending?: boolean;
}

const LIST_CHANGED: Record<string, keyof ListenFilter> = {
  "notifications/tools/list_changed": "toolsListChanged",
  "notifications/prompts/list_changed": "promptsListChanged",
  "notifications/resources/list_changed": "resourcesListChanged",
};

/** Whether a listen that the server honoured as `f` brings notification `method` (about `uri`). */
function covers(f: ListenFilter, method: string, uri: unknown): boolean {
  if (method === "notifications/resources/updated") {
    return typeof uri === "string" && !!f.resourceSubscriptions?.includes(uri);
  }
  const flag = LIST_CHANGED[method];
  return flag !== undefined && f[flag] === true;
}

/** The listens of one client. */
export class Listens {
  #all = new Set<ListenState>();
  #byId = new Map<RequestId, ListenState>();
  #out: Outbound;
  #scope: () => Scope;
  #timeout: number;

  /** `scope` gives the `_meta` of each request; `timeout` bounds the wait for an acknowledgement. */
  constructor(out: Outbound, scope: () => Scope, timeout: number) {
    this.#out = out;
    this.#scope = scope;
    this.#timeout = timeout;
  }

  /** Keeps a listen (not yet sent: {@linkcode open} sends it). */
  add(filter: ListenFilter, onNotification?: NotificationListener): ListenState {
    const l: ListenState = { filter, honoured: {}, onNotification };
    this.#all.add(l);
    return l;
  }

  /** Sends a listen's request; resolves once the server acknowledges it. */
  open(l: ListenState, options: RequestOptions): Promise<void> {
    const ctrl = new AbortController();
    l.ctrl = ctrl;
    const { signal } = options;
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => ctrl.abort(abortReason(signal!));
      const done = (err?: unknown) => {
        if (!l.ack) return;
        l.ack = undefined;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (err === undefined) resolve();
        else reject(err);
      };
      l.ack = (honoured) => {
        l.honoured = honoured;
        done();
      };
      const forget = () => {
        l.pending = false;
        if (l.id !== undefined && this.#byId.get(l.id) === l) this.#byId.delete(l.id);
      };
      l.pending = true;
      this.#out.request(
        "subscriptions/listen",
        envelope({ notifications: l.filter }, this.#scope()),
        { signal: ctrl.signal, timeout: 0 },
        false,
        (id) => {
          l.id = id;
          this.#byId.set(id, l);
        },
      ).then(
        // The server ended it (a graceful shutdown); a reconnection listens again.
        () => {
          forget();
          done(
            new McpClientError(
              ErrorCode.ConnectionClosed,
              "The server ended subscriptions/listen before acknowledging it",
              undefined,
              "subscriptions/listen",
            ),
          );
        },
        (e) => {
          forget();
          done(e);
        },
      );
      const t = options.timeout ?? this.#timeout;
      if (t > 0 && Number.isFinite(t)) {
        timer = setTimeout(() => {
          ctrl.abort(
            new McpClientError(
              ErrorCode.RequestTimeout,
              `Request timed out: no acknowledgement of subscriptions/listen within ${t} ms`,
              { timeout: t },
              "subscriptions/listen",
            ),
          );
        }, Math.min(t, MAX_TIMER));
      }
      if (signal) {
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /** Forgets a listen and cancels its request (the server answers a cancelled listen; that answer is dropped). */
  stop(l: ListenState): void {
    this.#all.delete(l);
    if (l.id !== undefined && this.#byId.get(l.id) === l) this.#byId.delete(l.id);
    l.ctrl?.abort(new DOMException("stopped listening", "AbortError"));
  }

  /** Sends every listen again, on a new connection (the server keeps none across connections). */
  async restore(report: (e: unknown) => void): Promise<void> {
    await Promise.all([...this.#all].filter((l) => !l.pending).map((l) => this.open(l, {}).catch(report)));
  }

  /**
   * Whether the `on()` listeners hear `msg`: every open listen that covers a notification brings its own copy,
   * and they hear one, that of the oldest such listen. A copy naming a stopped or unknown listen is dropped;
   * a notification naming no listen is heard.
   */
  heard(msg: JsonRpcNotification): boolean {
    const p = msg.params ?? {};
    const sid = subscriptionIdOf(p);
    if (sid === undefined) return true;
    const mine = this.#byId.get(sid as RequestId);
    if (!mine) return false;
    for (const l of this.#all) {
      if (l.id !== undefined && this.#byId.get(l.id) === l && covers(l.honoured, msg.method, p.uri)) return l === mine;
    }
    return true;
  }

  /** Settles the wait of the listen an acknowledgement names, or passes a notification to its listen's callback. */
  deliver(msg: JsonRpcNotification, report: (e: unknown) => void): void {
    const p = msg.params ?? {};
    const sid = subscriptionIdOf(p);
    const l = sid === undefined ? undefined : this.#byId.get(sid as RequestId);
    if (!l) return;
    if (msg.method === "notifications/subscriptions/acknowledged") return l.ack?.(filterOf(p.notifications));
    try {
      l.onNotification?.(p, msg);
    } catch (e) {
      report(e);
    }
  }
}

/** What {@linkcode Subscriptions} needs of its Client. */
export interface SubscriptionHost {
  /** Whether the connection speaks 2026-07-28. */
  perRequest(): boolean;
  closed(): boolean;
  request(method: string, params: Record<string, unknown>, options?: RequestOptions): Promise<Record<string, unknown>>;
  on(method: string, listener: NotificationListener): () => void;
  capabilities(): ServerCapabilities;
  report(e: unknown): void;
}

type UpdateListener = (params: { uri: string; [key: string]: unknown }) => void;

interface Subscription {
  listeners: Set<UpdateListener>;
  /** Under 2026-07-28: the listen that carries this URI's updates. */
  listen?: ListenState;
}

const LIST_FLAGS = [
  ["toolsListChanged", "tools", "notifications/tools/list_changed"],
  ["promptsListChanged", "prompts", "notifications/prompts/list_changed"],
  ["resourcesListChanged", "resources", "notifications/resources/list_changed"],
] as const;

const closed = (method: string) =>
  new McpClientError(ErrorCode.ConnectionClosed, "The client is closed", undefined, method);

/** A client's `subscribe()` callbacks by URI, and its listens, in either protocol era. */
export class Subscriptions {
  readonly listens: Listens;
  #subs = new Map<string, Subscription>();
  #host: SubscriptionHost;

  constructor(host: SubscriptionHost, out: Outbound, scope: () => Scope, timeout: number) {
    this.#host = host;
    this.listens = new Listens(out, scope, timeout);
  }

  /** `subscribe(uri)`: `resources/subscribe`, or under 2026-07-28 a listen of that URI. */
  async subscribe(uri: string, onUpdate: UpdateListener, options?: RequestOptions): Promise<() => Promise<void>> {
    const host = this.#host;
    if (host.closed()) throw closed("subscribe");
    if (host.perRequest()) return this.#subscribePerRequest(uri, onUpdate, options);
    let sub = this.#subs.get(uri);
    if (!sub) {
      sub = { listeners: new Set([onUpdate]) };
      this.#subs.set(uri, sub);
      try {
        await host.request("resources/subscribe", { uri }, options);
      } catch (e) {
        sub.listeners.delete(onUpdate);
        if (!sub.listeners.size && this.#subs.get(uri) === sub) this.#subs.delete(uri);
        throw e;
      }
    } else sub.listeners.add(onUpdate);
    const s = sub;
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      s.listeners.delete(onUpdate);
      if (s.listeners.size || this.#subs.get(uri) !== s) return;
      this.#subs.delete(uri);
      if (!host.closed()) await host.request("resources/unsubscribe", { uri });
    };
  }

  async #subscribePerRequest(
    uri: string,
    onUpdate: UpdateListener,
    options?: RequestOptions,
  ): Promise<() => Promise<void>> {
    let sub = this.#subs.get(uri);
    if (!sub) {
      const l = this.listens.add({ resourceSubscriptions: [uri] });
      sub = { listeners: new Set([onUpdate]), listen: l };
      this.#subs.set(uri, sub);
      try {
        await this.listens.open(l, options ?? {});
        if (!l.honoured.resourceSubscriptions?.includes(uri)) {
          throw new McpClientError(
            ErrorCode.MethodNotFound,
            `The server does not offer updates of ${uri} (its acknowledgement left it out)`,
            l.honoured,
            "subscriptions/listen",
          );
        }
      } catch (e) {
        sub.listeners.delete(onUpdate);
        if (!sub.listeners.size && this.#subs.get(uri) === sub) (this.#subs.delete(uri), this.listens.stop(l));
        throw e;
      }
    } else sub.listeners.add(onUpdate);
    const s = sub;
    let done = false;
    return () => {
      if (done) return Promise.resolve();
      done = true;
      s.listeners.delete(onUpdate);
      if (s.listeners.size || this.#subs.get(uri) !== s) return Promise.resolve();
      this.#subs.delete(uri);
      if (s.listen) this.listens.stop(s.listen);
      return Promise.resolve();
    };
  }

  /** `listen()`: a listen stream, or under the 2025 protocols what they offer of it. */
  async listen(
    filter: ListenFilter,
    onNotification?: NotificationListener,
    options: RequestOptions = {},
  ): Promise<Listening> {
    if (typeof filter !== "object" || filter === null) throw new TypeError("listen() needs a filter object");
    const uris = filter.resourceSubscriptions;
    if (uris !== undefined && (!Array.isArray(uris) || !uris.every((u) => typeof u === "string"))) {
      throw new TypeError("resourceSubscriptions must be an array of URI strings");
    }
    if (this.#host.closed()) throw closed("subscriptions/listen");
    if (!this.#host.perRequest()) return await this.#listenOnSession(filter, onNotification, options);
    const l = this.listens.add(uris ? { ...filter, resourceSubscriptions: [...uris] } : { ...filter }, onNotification);
    try {
      await this.listens.open(l, options);
    } catch (e) {
      this.listens.stop(l);
      throw e;
    }
    const listens = this.listens;
    return {
      get honoured() {
        return l.honoured;
      },
      stop: () => (listens.stop(l), Promise.resolve()),
    };
  }

  // The 2025 meaning of a listen: list changes need no opt-in; resource updates need resources/subscribe.
  async #listenOnSession(
    filter: ListenFilter,
    onNotification: NotificationListener | undefined,
    options: RequestOptions,
  ): Promise<Listening> {
    const host = this.#host;
    const caps = host.capabilities() as Record<string, { listChanged?: boolean; subscribe?: boolean } | undefined>;
    const honoured: ListenFilter = {};
    const offs: (() => void)[] = [];
    const unsubscribes: (() => Promise<void>)[] = [];
    for (const [flag, cap, method] of LIST_FLAGS) {
      if (!filter[flag] || !caps[cap]?.listChanged) continue;
      honoured[flag] = true;
      if (onNotification) offs.push(host.on(method, onNotification));
    }
    const uris = filter.resourceSubscriptions ?? [];
    const stop = async () => {
      for (const off of offs.splice(0)) off();
      await Promise.all(unsubscribes.splice(0).map((u) => u()));
    };
    if (uris.length && caps.resources?.subscribe) {
      honoured.resourceSubscriptions = [...uris];
      if (onNotification) {
        offs.push(host.on("notifications/resources/updated", (p, msg) => {
          if (uris.includes(p.uri as string)) onNotification(p, msg);
        }));
      }
      try {
        for (const uri of uris) unsubscribes.push(await this.subscribe(uri, () => {}, options));
      } catch (e) {
        await stop().catch(() => {});
        throw e;
      }
    }
    let done = false;
    return {
      honoured,
      stop: async () => {
        if (done) return;
        done = true;
        await stop();
      },
    };
  }

  /** A `notifications/resources/updated`: to the URI's `subscribe` callbacks (under 2026-07-28, from its own listen). */
  updated(p: Record<string, unknown>): void {
    if (typeof p.uri !== "string") return;
    const sub = this.#subs.get(p.uri);
    const sid = subscriptionIdOf(p);
    if (!sub || (sid !== undefined && sub.listen !== undefined && sub.listen.id !== sid)) return;
    for (const l of [...sub.listeners]) {
      try {
        l(p as { uri: string });
      } catch (e) {
        this.#host.report(e);
      }
    }
  }

  /** On a new connection: the listens again (2026-07-28), or `resources/subscribe` of every URI. */
  async restore(): Promise<void> {
    const report = (e: unknown) => this.#host.report(e);
    if (this.#host.perRequest()) return await this.listens.restore(report);
    await Promise.all(
      [...this.#subs.keys()].map((uri) => this.#host.request("resources/subscribe", { uri }).catch(report)),
    );
  }
}
