/**
 * A cluster transport over Redis pub/sub, for instances in several
 * processes and on several machines. It takes Redis clients you create:
 * Bun's built-in `RedisClient`, or the npm `redis` package on Deno. This
 * module imports neither.
 *
 * @module
 */

import type { ClusterTransport } from "./cluster.ts";

/** The part of a Redis client that publishes: Bun's `RedisClient` and the npm `redis` client have it. */
export interface RedisPublisher {
  /** `PUBLISH`: resolves with the number of subscribers that got the message. */
  publish(channel: string, message: string): Promise<number>;
}

/**
 * The part of a Redis client that subscribes. Pub/sub takes over a Redis
 * connection, so this must be a client of its own (`client.duplicate()`).
 */
export interface RedisSubscriber {
  /** `SUBSCRIBE`, calling `listener` with each message. */
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  /** `UNSUBSCRIBE`, dropping the channel's listeners. */
  unsubscribe(channel: string): Promise<unknown>;
}

/** Options of {@linkcode redisCluster}. */
export interface RedisClusterOptions {
  /** A connected client for `PUBLISH`. */
  publisher: RedisPublisher;
  /** A second client, for `SUBSCRIBE` only. */
  subscriber: RedisSubscriber;
  /** Prefix of the channel names (the server's name follows it). Default `"mcp"`. */
  prefix?: string;
  /** Milliseconds between heartbeats; see {@linkcode ClusterTransport.heartbeat}. Default 1,000. */
  heartbeat?: number;
  /** Where the cluster reports that Redis went down or came back. Default `console.error`. */
  log?: (message: string) => void;
}

/**
 * A {@linkcode ClusterTransport} over Redis pub/sub. Both clients reconnect
 * by themselves; when Redis comes back, the cluster notices that its
 * subscriptions were lost and subscribes again. One Redis server (or a
 * primary behind Sentinel): Redis Cluster counts the receivers of a
 * `PUBLISH` per node, which the cluster relies on. Messages carry the
 * HTTP requests forwarded between instances, `Authorization` headers
 * included: keep Redis on a private network, or use `rediss://`.
 *
 * @example Bun
 * ```ts
 * import { McpServer, redisCluster } from "./mod.ts";
 * const publisher = new Bun.RedisClient(process.env.REDIS_URL);
 * const subscriber = new Bun.RedisClient(process.env.REDIS_URL);
 * const server = new McpServer({ name: "demo", version: "1.0.0", cluster: redisCluster({ publisher, subscriber }) });
 * ```
 *
 * @example Deno, with the npm `redis` package
 * ```ts
 * import { createClient } from "redis"; // "npm:redis@^5" in deno.json's imports
 * import { McpServer, redisCluster } from "./mod.ts";
 * const publisher = createClient({ url: Deno.env.get("REDIS_URL") });
 * const subscriber = publisher.duplicate();
 * // The client reconnects by itself; without an error listener it would throw instead.
 * for (const c of [publisher, subscriber]) c.on("error", () => {});
 * await Promise.all([publisher.connect(), subscriber.connect()]);
 * const server = new McpServer({ name: "demo", version: "1.0.0", cluster: redisCluster({ publisher, subscriber }) });
 * ```
 */
export function redisCluster(options: RedisClusterOptions): ClusterTransport {
  const { publisher, subscriber } = options;
  const prefix = options.prefix ?? "mcp";
  const topics = new Set<string>();
  return {
    heartbeat: options.heartbeat,
    log: options.log,
    publish: (topic, message) => publisher.publish(`${prefix}:${topic}`, message),
    async subscribe(topic, listener) {
      const channel = `${prefix}:${topic}`;
      // Clients keep listeners across a reconnect even when the server forgot the subscription (Bun's does):
      // dropping them first keeps one listener per topic.
      if (topics.has(topic)) await subscriber.unsubscribe(channel);
      topics.add(topic);
      await subscriber.subscribe(channel, (message) => listener(message));
    },
    async close() {
      const all = [...topics];
      topics.clear();
      await Promise.all(all.map((t) => subscriber.unsubscribe(`${prefix}:${t}`).catch(() => {})));
    },
  };
}
