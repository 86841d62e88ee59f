/**
 * A cluster transport over `BroadcastChannel`, built into Deno and Bun: the
 * workers of one process (or the isolates of one host that share channels)
 * act as one server.
 *
 * @module
 */

import type { ClusterTransport } from "./cluster.ts";

/** Options of {@linkcode broadcastCluster}. */
export interface BroadcastClusterOptions {
  /** Prefix of the channel names, to keep two servers apart. Default `"mcp"`. */
  name?: string;
  /** Milliseconds between heartbeats; see {@linkcode ClusterTransport.heartbeat}. Default 1,000. */
  heartbeat?: number;
}

/**
 * A {@linkcode ClusterTransport} over `BroadcastChannel`, for workers of
 * one process: each worker runs the server with `serve(..., { reusePort: true })`
 * and this transport.
 *
 * @example
 * ```ts
 * import { broadcastCluster, McpServer } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0", cluster: broadcastCluster() });
 * ```
 */
export function broadcastCluster(options: BroadcastClusterOptions = {}): ClusterTransport {
  const prefix = options.name ?? "mcp";
  const subscribed = new Map<string, BroadcastChannel>();
  const out = new Map<string, BroadcastChannel>();
  return {
    heartbeat: options.heartbeat,
    publish(topic, message) {
      // A channel does not hear its own messages: publishing through a channel of its own lets this instance's
      // subscription hear them, as Redis would. The shared topic keeps its channel; one-off ones (an instance's own
      // topic, one per peer and over time many) are closed at once, which still delivers what was posted.
      let ch = out.get(topic);
      if (ch) return ch.postMessage(message);
      ch = new BroadcastChannel(`${prefix}:${topic}`);
      ch.postMessage(message);
      if (topic.endsWith("/all")) out.set(topic, ch);
      else ch.close();
    },
    subscribe(topic, listener) {
      subscribed.get(topic)?.close();
      const ch = new BroadcastChannel(`${prefix}:${topic}`);
      ch.onmessage = (e: MessageEvent) => listener(e.data);
      subscribed.set(topic, ch);
    },
    close() {
      for (const ch of [...subscribed.values(), ...out.values()]) ch.close();
      subscribed.clear();
      out.clear();
    },
  };
}
