/**
 * Tasks: a tool call that answers at once with a task handle, runs on, and
 * is polled for its status and result (2025-11-25 `tasks/*`, and the
 * 2026-07-28 extension `io.modelcontextprotocol/tasks`). A tool opts in with
 * `task: "optional"` or `"required"`; its handler does not change. This
 * module holds what a server may configure: the {@linkcode TaskStore} that
 * keeps task records for their time to live, and the in-memory default.
 *
 * @module
 */

import type { JsonRpcErrorObject } from "./jsonrpc.ts";

/** Whether a tool runs as a task: `"optional"` lets the client choose, `"required"` always. */
export type TaskSupport = "forbidden" | "optional" | "required";

/** The status of a task; `completed`, `failed` and `cancelled` are final. */
export type TaskStatus = "working" | "input_required" | "completed" | "failed" | "cancelled";

/**
 * What a {@linkcode TaskStore} keeps of one task: its state, who may see it,
 * and once final its result or error. The same record serves both protocol
 * eras; the wire shapes are made from it.
 */
export interface TaskRecord {
  /** Unguessable id (128 random bits). */
  taskId: string;
  /** Current status. */
  status: TaskStatus;
  /** What the status means, for people. */
  statusMessage?: string;
  /** ISO 8601 time of creation. */
  createdAt: string;
  /** ISO 8601 time of the last change. */
  lastUpdatedAt: string;
  /** Milliseconds the task is kept after its creation. */
  ttl: number;
  /** Milliseconds the client is asked to wait between polls. */
  pollInterval: number;
  /**
   * The principal that created it: `ctx.auth` as JSON (an OAuth token's issuer, subject and client), or an
   * identity private to one auth object that serializes to nothing distinctive; `""` when unauthenticated.
   */
  owner: string;
  /** The session that created it, for `tasks/list` of unauthenticated clients (2025-11-25). */
  session?: string;
  /** The protocol era of the request that created it. */
  era: "2025-11-25" | "2026-07-28";
  /** The method's result, once `completed` (or, for a tool error under 2025-11-25, `failed`). */
  result?: Record<string, unknown>;
  /** The JSON-RPC error, once `failed` by one or `cancelled`. */
  error?: JsonRpcErrorObject;
  /** 2026-07-28: requests to the client the task waits on, by key. */
  inputRequests?: Record<string, { method: string; params: Record<string, unknown> }>;
}

/**
 * Where task records live until their time to live runs out. Every method
 * may be synchronous or return a promise. The default keeps them in memory
 * ({@linkcode memoryTaskStore}); give every instance of a cluster one shared
 * store (a database, Redis keys) so that `tasks/get` answers on any of them.
 *
 * @example A store over any key-value client with expiry
 * ```ts
 * import type { TaskRecord, TaskStore } from "./mod.ts";
 * interface Kv {
 *   get(key: string): Promise<string | null>;
 *   set(key: string, value: string, ttlMs: number): Promise<unknown>;
 *   del(key: string): Promise<unknown>;
 * }
 * function kvTaskStore(kv: Kv): TaskStore {
 *   return {
 *     get: async (id) => {
 *       const json = await kv.get(`task:${id}`);
 *       return json === null ? undefined : JSON.parse(json) as TaskRecord;
 *     },
 *     set: async (record, ttlMs) => void await kv.set(`task:${record.taskId}`, JSON.stringify(record), ttlMs),
 *     delete: async (id) => void await kv.del(`task:${id}`),
 *   };
 * }
 * ```
 */
export interface TaskStore {
  /** The record of a task, or undefined when unknown or expired. */
  get(taskId: string): TaskRecord | undefined | Promise<TaskRecord | undefined>;
  /** Saves a record, to be dropped `ttlMs` from now. */
  set(record: TaskRecord, ttlMs: number): void | Promise<void>;
  /** Drops a record. */
  delete(taskId: string): void | Promise<void>;
  /**
   * The live records of one owner (and, with `session`, of one session),
   * oldest first, for 2025-11-25 `tasks/list`. A store without it makes the
   * server not offer `tasks/list`.
   */
  list?(owner: string, session?: string): TaskRecord[] | Promise<TaskRecord[]>;
}

/** Options of {@linkcode memoryTaskStore}. */
export interface MemoryTaskStoreOptions {
  /** Records kept at most. Default 10,000. */
  maxRecords?: number;
  /** Records of one owner (a principal; unauthenticated, a session) kept at most. Default 1,000. */
  maxPerOwner?: number;
}

const FINAL = new Set<TaskStatus>(["completed", "failed", "cancelled"]);

/**
 * A {@linkcode TaskStore} in this process's memory: records expire with
 * their time to live. When one owner has `maxPerOwner` records, its oldest
 * finished one makes room for its next; when the store holds `maxRecords`,
 * the oldest finished record of the owner holding the most does. An owner
 * never loses a result to another's flood. The default store.
 *
 * @example
 * ```ts
 * import { McpServer, memoryTaskStore } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0", tasks: { store: memoryTaskStore({ maxRecords: 1000 }) } });
 * ```
 */
export function memoryTaskStore(options: MemoryTaskStoreOptions = {}): TaskStore {
  const max = options.maxRecords ?? 10_000;
  const perOwner = options.maxPerOwner ?? 1_000;
  if (!(max >= 1)) throw new RangeError("maxRecords must be at least 1");
  if (!(perOwner >= 1)) throw new RangeError("maxPerOwner must be at least 1");
  // Insertion order is creation order: a record keeps its place when saved again.
  const records = new Map<string, { record: TaskRecord; expires: number }>();
  const counts = new Map<string, number>();
  const ownerKey = (r: TaskRecord) => r.owner || `session ${r.session ?? ""}`;
  const drop = (id: string) => {
    const e = records.get(id);
    if (!e) return;
    records.delete(id);
    const k = ownerKey(e.record);
    const n = (counts.get(k) ?? 1) - 1;
    if (n > 0) counts.set(k, n);
    else counts.delete(k);
  };
  const live = (id: string, now: number) => {
    const e = records.get(id);
    if (e && e.expires <= now) drop(id);
    return e && e.expires > now ? e : undefined;
  };
  const expire = (now: number) => {
    for (const [id, e] of records) if (e.expires <= now) drop(id);
  };
  // The oldest finished record of `key`: the one to give up for room.
  const evict = (key: string, full: string) => {
    for (const [id, e] of records) {
      if (ownerKey(e.record) === key && FINAL.has(e.record.status)) return void drop(id);
    }
    throw new RangeError(full);
  };
  return {
    get: (id) => live(id, Date.now())?.record,
    set(record, ttlMs) {
      const now = Date.now();
      const e = records.get(record.taskId);
      if (e) {
        e.record = record;
        e.expires = now + ttlMs;
        return;
      }
      const key = ownerKey(record);
      if ((counts.get(key) ?? 0) >= perOwner) {
        expire(now);
        if ((counts.get(key) ?? 0) >= perOwner) {
          evict(key, `this owner holds ${perOwner} tasks, none of them final: wait for one to finish`);
        }
      }
      if (records.size >= max) {
        expire(now);
        if (records.size >= max) {
          let heaviest = key;
          for (const [k, n] of counts) if (n > (counts.get(heaviest) ?? 0)) heaviest = k;
          evict(heaviest, `the task store is full (${max} tasks, none of them final)`);
        }
      }
      records.set(record.taskId, { record, expires: now + ttlMs });
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
    delete: drop,
    list(owner, session) {
      const now = Date.now();
      const out: TaskRecord[] = [];
      for (const id of [...records.keys()]) {
        const r = live(id, now)?.record;
        if (r && r.owner === owner && (session === undefined || r.session === session)) out.push(r);
      }
      return out;
    },
  };
}

/** Task options of `McpServer`. */
export interface TaskOptions {
  /** Where records are kept. Default {@linkcode memoryTaskStore}(). */
  store?: TaskStore;
  /** Milliseconds a task is kept when the client names no ttl. Default 600,000 (10 minutes). */
  defaultTtl?: number;
  /** Longest ttl granted, in milliseconds; a longer request is cut to it. Default 3,600,000 (1 hour). */
  maxTtl?: number;
  /** Milliseconds between polls suggested to clients. Default 1,000. */
  pollInterval?: number;
  /** Unfinished tasks one principal (or, unauthenticated, one session) may have at once. Default 100. */
  maxRunning?: number;
}
