/**
 * A {@linkcode TaskStore} in Redis, so that every instance of a cluster
 * answers `tasks/get` for a task any of them runs. It takes a Redis client
 * you create: Bun's built-in `RedisClient`, or the npm `redis` package on
 * Deno. This module imports neither.
 *
 * @module
 */

import type { TaskRecord, TaskStore } from "./tasks.ts";

/** The part of a Redis client the task store uses: Bun's `RedisClient` and the npm `redis` client have it. */
export interface RedisKeys {
  /** `GET`. */
  get(key: string): Promise<string | null>;
  /** `SET`. */
  set(key: string, value: string): Promise<unknown>;
  /** `EXPIRE`, in seconds. */
  expire(key: string, seconds: number): Promise<unknown>;
  /** `DEL`. */
  del(key: string): Promise<unknown>;
}

/** Options of {@linkcode redisTaskStore}. */
export interface RedisTaskStoreOptions {
  /** A connected client (not one that subscribes: pub/sub takes a connection over). */
  client: RedisKeys;
  /** Prefix of the keys. Default `"mcp:task:"`. */
  prefix?: string;
}

/**
 * A {@linkcode TaskStore} over Redis keys that expire with each task's
 * time to live (rounded up to the second). It cannot list, so a server
 * using it does not offer 2025-11-25 `tasks/list`; `tasks/get`,
 * `tasks/result`, `tasks/update` and `tasks/cancel` work on every instance.
 *
 * @example Bun, beside `redisCluster`
 * ```ts
 * import { McpServer, redisCluster, redisTaskStore } from "./mod.ts";
 * const client = new Bun.RedisClient(process.env.REDIS_URL);
 * const subscriber = new Bun.RedisClient(process.env.REDIS_URL);
 * const server = new McpServer({
 *   name: "demo",
 *   version: "1.0.0",
 *   cluster: redisCluster({ publisher: client, subscriber }),
 *   tasks: { store: redisTaskStore({ client }) },
 * });
 * ```
 */
export function redisTaskStore(options: RedisTaskStoreOptions): TaskStore {
  const { client } = options;
  const prefix = options.prefix ?? "mcp:task:";
  return {
    async get(id) {
      const json = await client.get(prefix + id);
      return json === null ? undefined : JSON.parse(json) as TaskRecord;
    },
    async set(record, ttlMs) {
      const key = prefix + record.taskId;
      await client.set(key, JSON.stringify(record));
      await client.expire(key, Math.max(1, Math.ceil(ttlMs / 1000)));
    },
    async delete(id) {
      await client.del(prefix + id);
    },
  };
}
