// The client's `subscriptions/listen` streams (protocol 2026-07-28): each one a
// request that stays open, acknowledged by a notification naming its id, and
// sent again after a reconnection; stopping one cancels its request. The
// notifications they bring reach the Client's listeners as any other.

import { ErrorCode, type JsonRpcNotification, type RequestId } from "./jsonrpc.ts";
import type { ListenFilter, NotificationListener, RequestOptions } from "./client.ts";
import { McpClientError } from "./_client_error.ts";
import { abortReason, MAX_TIMER, type Outbound } from "./_client_outbound.ts";
import { envelope, filterOf, type Scope, subscriptionIdOf } from "./_client_modern.ts";

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
