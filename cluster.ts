/**
 * Several instances of one MCP server, behind any load balancer and with no
 * sticky sessions: give every instance a `cluster` transport over the same
 * bus (and the same `stateSecret`) and they act as one server.
 *
 * - `resourceUpdated()`, `log()` and list changes reach the sessions of every
 *   instance, over WebSocket, Streamable HTTP and 2026-07-28 listens.
 * - A Streamable HTTP request that names a session opened on another
 *   instance is forwarded to that instance (its owner) and answered from
 *   there, streams included: requests, answers to sampling, elicitation and
 *   roots requests, `Last-Event-ID` resumption from the owner's bounded event
 *   log, `DELETE` and expiry all behave as on one process.
 * - An instance that dies loses only its own connections: its HTTP sessions
 *   get 404 elsewhere (the client re-initializes), its WebSocket clients
 *   reconnect to another instance.
 *
 * Two transports ship with the library: {@linkcode broadcastCluster} (the
 * workers of one process, over `BroadcastChannel`) and
 * {@linkcode redisCluster} (processes and machines, over Redis pub/sub).
 * Without the option, a server is one process and needs nothing.
 *
 * @module
 */

/**
 * How the instances of one server reach each other: topics, each message
 * delivered to every instance subscribed to the topic, in the order one
 * instance published them (across topics too: forwarded answers are
 * numbered, and a message that overtakes another reads as a lost one). At
 * most once: a message published while the transport is down may be lost. Implement it to run a cluster over another
 * bus (NATS, Postgres `LISTEN`).
 *
 * @example A transport over one BroadcastChannel per topic
 * ```ts
 * import type { ClusterTransport } from "./mod.ts";
 * const channels = new Map<string, BroadcastChannel>();
 * const transport: ClusterTransport = {
 *   publish(topic, message) {
 *     const out = new BroadcastChannel(topic);
 *     out.postMessage(message);
 *     out.close();
 *   },
 *   subscribe(topic, listener) {
 *     channels.get(topic)?.close();
 *     const ch = new BroadcastChannel(topic);
 *     ch.onmessage = (e) => listener(e.data);
 *     channels.set(topic, ch);
 *   },
 *   close() {
 *     for (const ch of channels.values()) ch.close();
 *   },
 * };
 * ```
 */
export interface ClusterTransport {
  /**
   * Sends `message` to every instance subscribed to `topic`, this one
   * included. Resolves with the number of subscribers that got it, when the
   * bus knows (Redis does): 0 tells the sender that nobody listens.
   */
  publish(topic: string, message: string): void | Promise<number | void>;
  /**
   * Calls `listener` with every message published to `topic`. Subscribing
   * again to a topic replaces its listener: the cluster does so when the
   * subscription was lost (a Redis restart).
   */
  subscribe(topic: string, listener: (message: string) => void): void | Promise<unknown>;
  /** Stops every subscription. Called when the last transport of the server closes. A transport serves one server. */
  close?(): void | Promise<unknown>;
  /**
   * Milliseconds between heartbeats. An instance silent for three of them
   * is taken for dead. Default 1,000.
   */
  readonly heartbeat?: number;
  /** Where the cluster reports that the bus went down or came back. Default `console.error`. */
  readonly log?: (message: string) => void;
}
