// Server-wide notifications to the sessions of this process: list changes, resource updates and log
// messages, to initialized sessions and to 2026-07-28 `subscriptions/listen` streams. A cluster
// backend publishes these across instances and delivers them here on each one.

import type { RequestId } from "../jsonrpc.ts";
import type { LoggingLevel, SubscriptionFilter } from "../types.ts";
import type { Session } from "../session.ts";
import type { Kind } from "./registry.ts";
import { META } from "../versions.ts";
import { levelRank } from "../_util/log_levels.ts";

/** A server-wide notification as it crosses instances (see _cluster/node.ts). */
export type Notice =
  | { t: "updated"; uri: string }
  | { t: "log"; level: LoggingLevel; data: unknown; logger?: string }
  | { t: "changed"; kinds: Kind[] };

interface Listen {
  filter: SubscriptionFilter;
  end: () => void;
}

export class Fanout {
  /** Every open session of this server in this process. */
  readonly sessions: Set<Session> = new Set();
  #listens = new Map<Session, Map<RequestId, Listen>>();
  #pending = new Set<Kind>();
  /** Set while the server is part of a cluster: sends a notification to the other instances. */
  relay?: (notice: Notice) => void;

  /** Tells every session that `kind`'s list changed; a burst of changes becomes one notification per kind. */
  listChanged(kind: Kind): void {
    if (!this.sessions.size && !this.relay) return;
    if (!this.#pending.size) {
      queueMicrotask(() => {
        const kinds = [...this.#pending];
        this.#pending.clear();
        this.#changed(kinds);
        this.relay?.({ t: "changed", kinds });
      });
    }
    this.#pending.add(kind);
  }

  #changed(kinds: Kind[]): void {
    for (const s of this.sessions) for (const k of kinds) this.#listChangedOn(s, k);
  }

  /** A notification raised on another instance, for this instance's sessions. */
  deliver(n: Notice): void {
    if (n.t === "updated") {
      if (typeof n.uri === "string") this.#updated(n.uri);
    } else if (n.t === "log") {
      if (levelRank(n.level) >= 0) this.#log(n.level, n.data, typeof n.logger === "string" ? n.logger : undefined);
    } else if (Array.isArray(n.kinds)) {
      this.#changed(n.kinds.filter((k) => k === "tools" || k === "prompts" || k === "resources"));
    }
  }

  #listChangedOn(s: Session, kind: Kind): void {
    const method = `notifications/${kind}/list_changed`;
    // Only kinds this client was told about at initialize (a later registration can add a kind).
    if (s.ready && s.serverCapabilities[kind]) s.notify(method);
    const flag = `${kind}ListChanged` as const;
    for (const [id, l] of this.#listens.get(s) ?? []) {
      if (l.filter[flag]) s.notify(method, { _meta: { [META.subscriptionId]: id } });
    }
  }

  /** Sends resources/updated to legacy subscribers and to listens that name the URI. */
  resourceUpdated(uri: string): void {
    this.#updated(uri);
    this.relay?.({ t: "updated", uri });
  }

  #updated(uri: string): void {
    for (const s of this.sessions) {
      if (s.subscriptions.has(uri)) s.notify("notifications/resources/updated", { uri });
      for (const [id, l] of this.#listens.get(s) ?? []) {
        if (l.filter.resourceSubscriptions?.includes(uri)) {
          s.notify("notifications/resources/updated", { uri, _meta: { [META.subscriptionId]: id } });
        }
      }
    }
  }

  log(level: LoggingLevel, data: unknown, logger?: string): void {
    if (levelRank(level) < 0) throw new RangeError(`unknown log level "${level}"`);
    this.#log(level, data, logger);
    this.relay?.(logger === undefined ? { t: "log", level, data } : { t: "log", level, data, logger });
  }

  #log(level: LoggingLevel, data: unknown, logger?: string): void {
    for (const s of this.sessions) s.log(level, data, logger);
  }

  /** Opens a 2026-07-28 subscription stream; resolves with its result when it ends gracefully. */
  listen(session: Session, id: RequestId, filter: SubscriptionFilter): Promise<Record<string, unknown>> {
    let mine = this.#listens.get(session);
    if (!mine) this.#listens.set(session, mine = new Map());
    const listens = mine;
    return new Promise((resolve) => {
      const end = () => {
        if (listens.delete(id)) resolve({ _meta: { [META.subscriptionId]: id } });
      };
      listens.set(id, { filter, end });
      session.notify("notifications/subscriptions/acknowledged", {
        notifications: filter,
        _meta: { [META.subscriptionId]: id },
      });
    });
  }

  /** Ends the listen `id` of `session` with its result; false if there is none. */
  endListen(session: Session, id: RequestId): boolean {
    const l = this.#listens.get(session)?.get(id);
    if (!l) return false;
    l.end();
    return true;
  }

  /** Ends every listen of `session` with its result (a draining server). */
  endListens(session: Session): void {
    for (const l of [...this.#listens.get(session)?.values() ?? []]) l.end();
  }

  /** Forgets a closed session and its listens (they end without a result). */
  forget(session: Session): void {
    this.sessions.delete(session);
    this.#listens.delete(session);
  }
}
