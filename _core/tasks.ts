// The task engine: a task-augmented tools/call answers at once with a task and runs its handler on,
// detached from the request (and from the connection: a task outlives it). The record lives in the
// TaskStore; what only this process holds (the abort controller, who waits for the end, the questions
// to the client still open) lives here. Both eras share the engine: 2025-11-25 asks the client through
// ordinary requests that ride on a waiting tasks/result, 2026-07-28 through the task's inputRequests,
// answered by tasks/update. The handler contexts of each era are the dispatcher's (_dispatch/task_context.ts).

import { ErrorCode, type JsonRpcErrorObject, McpError, type RequestId } from "../jsonrpc.ts";
import type { Context } from "../context.ts";
import type { Session } from "../session.ts";
import { memoryTaskStore, type TaskOptions, type TaskRecord, type TaskStatus, type TaskStore } from "../tasks.ts";
import { type ClusterNode, ownerOf } from "../_cluster/node.ts";
import { decodeCursor, pageOf } from "./paging.ts";
import { isPerRequest } from "../versions.ts";
import { principalOf } from "../_util/principal.ts";
import { later, unref } from "../_util/timers.ts";
import { randomId } from "../_util/ids.ts";
import { describe, invalid, isRecord, toErrorObject } from "../_util/values.ts";

/** The `_meta` key tying a message to its task (2025-11-25). */
export const RELATED_TASK = "io.modelcontextprotocol/related-task";
/** The 2026-07-28 extension's name, in capabilities. */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

/** Whether a task's status is final: nothing changes it any more. */
export const FINAL: ReadonlySet<TaskStatus> = new Set<TaskStatus>(["completed", "failed", "cancelled"]);
// The era a record was created in, by the kind of request that created it (its era field names the version).
const ERA = { session: "2025-11-25", perRequest: "2026-07-28" } as const satisfies Record<string, TaskRecord["era"]>;

/** A task running in this process. */
export interface Live {
  record: TaskRecord;
  readonly controller: AbortController;
  readonly ctx: Context;
  /** Called once the task is final and saved. */
  readonly waiters: Set<() => void>;
  /** The store writes of this task, one after another: a slow write must not land after a later one. */
  saving: Promise<void>;
  /** Set when a tasks/result for it waits on another instance, where no question of this one can reach. */
  awayWaiter: boolean;
  /** 2025-11-25: tasks/result requests waiting on it, newest last; requests to the client ride on one. */
  readonly resultRequests: Ride[];
  readonly riders: ((ride: Ride) => void)[];
  /** Requests to the client (2025-11-25) or keys (2026-07-28) still unanswered. */
  open: number;
  /** 2026-07-28: answer callbacks by input key. */
  readonly answers: Map<string, (value: Record<string, unknown>) => void>;
  nextKey: number;
  timer?: ReturnType<typeof setTimeout>;
  /** The principal, or for unauthenticated session clients the session: whose running tasks count. */
  readonly counter: string;
}

/** A waiting tasks/result: the session it came on (maybe not the task's own, which may be gone) and its id. */
export interface Ride {
  session: Session;
  id: RequestId;
}

// An auth object that serializes to nothing telling principals apart (a class with private fields, a
// circular object) owns only what it created itself: sharing one owner among all such principals would
// hand each the others' tasks.
const identities = new WeakMap<object, string>();
function ownerOfAuth(auth: unknown): string {
  const p = principalOf(auth);
  if ((typeof auth !== "object" && typeof auth !== "function") || auth === null) return p;
  if (p !== "{}" && p !== "" && !p.startsWith("[object ")) return p;
  let id = identities.get(auth);
  if (!id) identities.set(auth, id = `(identity ${crypto.randomUUID()})`);
  return id;
}

/** Waits for what `register` registers to be called, or for `signal` to abort; leaves nothing behind either way. */
function waitOn<T>(register: (cb: (v: T) => void) => () => void, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => (unregister(), reject(signal.reason));
    const unregister = register((v) => (signal.removeEventListener("abort", onAbort), resolve(v)));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Handed to questions waiting for a tasks/result when the client waits on another instance. */
const AWAY = { session: undefined as unknown as Session, id: "" } as Ride;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Checks task options when the server is made, so that a bad one fails at once. */
export function checkTaskOptions(options: TaskOptions | undefined): void {
  if (!options) return;
  for (const k of ["defaultTtl", "maxTtl", "pollInterval", "maxRunning"] as const) {
    const v = options[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 1)) throw new RangeError(`tasks.${k} must be a number ≥ 1`);
  }
  if ((options.defaultTtl ?? 0) > (options.maxTtl ?? Infinity)) {
    throw new RangeError("tasks.defaultTtl must not exceed tasks.maxTtl");
  }
}

// The eras name two fields differently: ttl and pollInterval became ttlMs and pollIntervalMs.
function wire(r: TaskRecord, ttl: string, poll: string): Record<string, unknown> {
  const t: Record<string, unknown> = { taskId: r.taskId, status: r.status };
  if (r.statusMessage !== undefined) t.statusMessage = r.statusMessage;
  t.createdAt = r.createdAt;
  t.lastUpdatedAt = r.lastUpdatedAt;
  t[ttl] = r.ttl;
  t[poll] = r.pollInterval;
  return t;
}

/** The 2025-11-25 wire shape of a task. */
export function wireTask(r: TaskRecord): Record<string, unknown> {
  return wire(r, "ttl", "pollInterval");
}

/** The 2026-07-28 wire shape of a task; `detailed` adds the result, error or input requests of its status. */
export function wirePerRequestTask(r: TaskRecord, detailed: boolean): Record<string, unknown> {
  const t = wire(r, "ttlMs", "pollIntervalMs");
  if (!detailed) return t;
  if (r.status === "completed" && r.result) t.result = r.result;
  else if (r.status === "failed") t.error = r.error ?? { code: ErrorCode.InternalError, message: "The task failed" };
  else if (r.status === "input_required") t.inputRequests = r.inputRequests ?? {};
  return t;
}

const notFound = (id: unknown) => new McpError(ErrorCode.InvalidParams, `Task not found: ${describe(id)}`);

/** One server's tasks. */
export class TaskManager {
  readonly store: TaskStore;
  readonly defaultTtl: number;
  readonly maxTtl: number;
  readonly pollInterval: number;
  readonly maxRunning: number;
  #live = new Map<string, Live>();
  #running = new Map<string, number>();
  #pageSize: number;
  #cluster?: ClusterNode;

  /** `pageSize`: of `tasks/list`; `cluster`: the node of a server that runs as one instance of several. */
  constructor(options: TaskOptions = {}, pageSize: number, cluster?: ClusterNode) {
    checkTaskOptions(options);
    this.#pageSize = pageSize;
    this.#cluster = cluster;
    this.store = options.store ?? memoryTaskStore();
    this.maxTtl = options.maxTtl ?? 3_600_000;
    this.defaultTtl = Math.min(options.defaultTtl ?? 600_000, this.maxTtl);
    this.pollInterval = options.pollInterval ?? 1_000;
    this.maxRunning = options.maxRunning ?? 100;
  }

  /** Whether the store can list (2025-11-25 `tasks/list`). */
  get listable(): boolean {
    return typeof this.store.list === "function";
  }

  // In a cluster a task's id starts with the id of the instance that runs it, as session ids do.
  #newId(): string {
    const id = randomId(16);
    return this.#cluster ? `${this.#cluster.id}.${id}` : id;
  }

  /**
   * Creates a task for the request of `ctx` and starts `run` in it, with the context `contextFor`
   * makes for the task (the dispatcher's: each era has its own). Resolves, once the record is saved
   * (a `tasks/get` then finds it), with the record as it was created.
   */
  async start(
    ctx: Context,
    requestedTtl: unknown,
    contextFor: (live: Live) => Context,
    run: (ctx: Context) => unknown,
  ): Promise<TaskRecord> {
    const perRequest = isPerRequest(ctx.protocolVersion);
    if (
      requestedTtl !== undefined && requestedTtl !== null && !(typeof requestedTtl === "number" && requestedTtl >= 0)
    ) {
      throw invalid(`task.ttl must be a number of milliseconds, not ${describe(requestedTtl)}`);
    }
    const ttl = typeof requestedTtl === "number" ? Math.min(Math.max(1, requestedTtl), this.maxTtl) : this.defaultTtl;
    const owner = ownerOfAuth(ctx.auth);
    const counter = owner || (perRequest ? "" : `session ${ctx.session.id}`);
    const running = this.#running.get(counter) ?? 0;
    if (running >= this.maxRunning) {
      throw new McpError(
        ErrorCode.ServerBusy,
        `Too many unfinished tasks (at most ${this.maxRunning}); wait for one to finish, or cancel one`,
      );
    }
    const now = Date.now();
    const record: TaskRecord = {
      taskId: this.#newId(),
      status: "working",
      createdAt: iso(now),
      lastUpdatedAt: iso(now),
      ttl,
      pollInterval: this.pollInterval,
      owner,
      era: perRequest ? ERA.perRequest : ERA.session,
    };
    if (!owner && !perRequest) record.session = ctx.session.id;
    const live: Live = {
      record,
      controller: new AbortController(),
      ctx: undefined as unknown as Context,
      waiters: new Set(),
      saving: Promise.resolve(),
      awayWaiter: false,
      resultRequests: [],
      riders: [],
      open: 0,
      answers: new Map(),
      nextKey: 0,
      counter,
    };
    // Made now: its auth is the request's, before an HTTP session's token can change during the await.
    (live as { ctx: Context }).ctx = contextFor(live);
    await this.store.set({ ...record }, ttl);
    this.#live.set(record.taskId, live);
    this.#running.set(counter, running + 1);
    live.timer = later(() => void this.#expire(live), ttl);
    unref(live.timer); // a task's time to live alone does not keep a process up
    const created = { ...record };
    void this.#run(live, run);
    return created;
  }

  async #run(live: Live, run: (ctx: Context) => unknown): Promise<void> {
    let result: Record<string, unknown> | undefined;
    let error: JsonRpcErrorObject | undefined;
    try {
      const out = await run(live.ctx);
      // Routes may answer with an already serialized result.
      result = typeof out === "string" ? JSON.parse(out) : out as Record<string, unknown>;
    } catch (e) {
      error = toErrorObject(e);
    }
    if (FINAL.has(live.record.status)) return; // cancelled or expired meanwhile
    if (error) {
      await this.#finish(live, "failed", { error, statusMessage: error.message });
    } else if (result?.isError === true && live.record.era === ERA.session) {
      // 2025-11-25 counts a tool error as a failure; the extension keeps "failed" for protocol errors.
      await this.#finish(live, "failed", { result, statusMessage: "The tool reported an error" });
    } else {
      await this.#finish(live, "completed", { result });
    }
  }

  async #finish(live: Live, status: TaskStatus, fields: Partial<TaskRecord>): Promise<void> {
    if (FINAL.has(live.record.status)) return;
    if (live.timer !== undefined) clearTimeout(live.timer);
    const n = (this.#running.get(live.counter) ?? 1) - 1;
    if (n > 0) this.#running.set(live.counter, n);
    else this.#running.delete(live.counter);
    const r = { ...live.record, ...fields, status };
    delete r.inputRequests;
    // Final at once for everyone here (live.record); forgotten only once the store has it, so that a
    // tasks/get or tasks/result meanwhile still finds the final state.
    await this.#save(live, r);
    this.#live.delete(live.record.taskId);
    for (const w of live.waiters) w();
    live.waiters.clear();
  }

  /** Aborts every task running here and marks it failed: the server is going away. */
  async shutdown(reason: string): Promise<void> {
    await Promise.all([...this.#live.values()].map((live) => {
      live.controller.abort(new McpError(ErrorCode.ConnectionClosed, reason));
      return this.#finish(live, "failed", {
        error: { code: ErrorCode.ConnectionClosed, message: reason },
        statusMessage: reason,
      });
    }));
  }

  async #expire(live: Live): Promise<void> {
    live.controller.abort(new McpError(ErrorCode.RequestTimeout, "The task's time to live ran out"));
    await this.#finish(live, "failed", {
      error: { code: ErrorCode.RequestTimeout, message: "Task has expired" },
      statusMessage: "Task has expired",
    }).catch(() => {});
    await this.store.delete(live.record.taskId);
  }

  /** Saves a new state of a live task and tells its client (2025-11-25 status notifications). */
  #save(live: Live, record: TaskRecord): Promise<void> {
    record.lastUpdatedAt = iso(Date.now());
    live.record = record;
    const copy = { ...record };
    const write = async () => {
      try {
        await this.store.set(copy, Math.max(1, Date.parse(copy.createdAt) + copy.ttl - Date.now()));
      } catch (err) {
        console.error(`MCP tasks: could not save task ${copy.taskId}:`, err);
      }
    };
    live.saving = live.saving.then(write);
    const session = live.ctx.session;
    if (record.era === ERA.session && !session.isClosed) {
      session.notify("notifications/tasks/status", wireTask(record));
    }
    return live.saving;
  }

  async #status(live: Live, status: TaskStatus, fields: Partial<TaskRecord> = {}): Promise<void> {
    if (FINAL.has(live.record.status)) return;
    await this.#save(live, { ...live.record, ...fields, status });
  }

  /** The record of task `id` for the requester of `ctx`; another principal's task is not found. */
  async find(id: unknown, ctx: Context): Promise<TaskRecord> {
    if (typeof id !== "string") throw invalid("taskId must be a string");
    const record = this.#live.get(id)?.record ?? await this.store.get(id);
    if (!record || record.owner !== ownerOfAuth(ctx.auth)) throw notFound(id);
    return record;
  }

  /** 2025-11-25 `tasks/result`: the method's answer once the task is final, waiting for it if need be. */
  async result(id: unknown, ctx: Context): Promise<Record<string, unknown>> {
    let record = await this.find(id, ctx);
    const live = this.#live.get(record.taskId);
    if (live && this.#live.has(record.taskId)) {
      const me: Ride = { session: ctx.session, id: ctx.requestId };
      live.resultRequests.push(me);
      for (const ride of live.riders.splice(0)) ride(me);
      try {
        await waitOn<void>((cb) => (live.waiters.add(cb), () => live.waiters.delete(cb)), ctx.signal);
      } finally {
        live.resultRequests.splice(live.resultRequests.indexOf(me), 1);
      }
      record = live.record;
    } else if (!FINAL.has(record.status) && this.#elsewhere(record)) {
      // Run by another instance of a cluster: its record, in the shared store, tells when it ends. Its
      // questions cannot reach this client from there: the runner is told, so that they fail, not wait.
      this.#tell(record, { op: "waiting" });
      while (!FINAL.has(record.status)) {
        await this.#pause(record.pollInterval, ctx.signal);
        record = await this.find(record.taskId, ctx);
      }
    }
    if (!FINAL.has(record.status)) {
      throw new McpError(ErrorCode.InternalError, `Task ${record.taskId} is not running: its server restarted`);
    }
    if (record.result) {
      const meta = isRecord(record.result._meta) ? record.result._meta : {};
      return { ...record.result, _meta: { ...meta, [RELATED_TASK]: { taskId: record.taskId } } };
    }
    const e = record.error ?? { code: ErrorCode.InternalError, message: `Task ${record.taskId} ${record.status}` };
    throw new McpError(e.code, e.message, e.data);
  }

  /** 2025-11-25 `tasks/list`: the requester's tasks, one page. */
  async list(cursor: unknown, ctx: Context): Promise<Record<string, unknown>> {
    if (!this.store.list) throw new McpError(ErrorCode.MethodNotFound, "Method not found: tasks/list");
    const owner = ownerOfAuth(ctx.auth);
    const offset = decodeCursor("tasks", cursor);
    const all = await this.store.list(owner, owner ? undefined : ctx.session.id);
    const page = pageOf("tasks", "tasks", all, offset, this.#pageSize);
    page.tasks = (page.tasks as TaskRecord[]).map(wireTask);
    return page;
  }

  /**
   * `tasks/cancel`: aborts the handler and marks the task cancelled. A final task is refused under
   * 2025-11-25; the extension only asks for an acknowledgement.
   */
  async cancel(id: unknown, ctx: Context, refuseFinal: boolean): Promise<TaskRecord> {
    const record = await this.find(id, ctx);
    if (FINAL.has(record.status)) {
      if (!refuseFinal) return record;
      throw invalid(`Cannot cancel task: already in terminal status '${record.status}'`);
    }
    const live = this.#live.get(record.taskId);
    const error = { code: ErrorCode.InvalidRequest, message: `Task ${record.taskId} was cancelled` };
    const fields = { error, statusMessage: "The task was cancelled by request." };
    if (!live) {
      // Run by another instance: it cancels and saves, as the one writer of the record while it runs; its
      // answer is the record it saved. If it is gone or does not answer, or none runs the task since a
      // restart, the record says cancelled from here.
      if (this.#tell(record, { op: "cancel" })) {
        const node = this.#cluster!;
        const deadline = Date.now() + node.heartbeat * 3;
        let now = record;
        while (!FINAL.has(now.status) && Date.now() < deadline) {
          await this.#pause(Math.min(50, node.heartbeat), ctx.signal);
          now = await this.find(record.taskId, ctx);
        }
        if (FINAL.has(now.status)) {
          if (now.status === "cancelled" || !refuseFinal) return now;
          throw invalid(`Cannot cancel task: already in terminal status '${now.status}'`);
        }
      }
      const r = { ...record, ...fields, status: "cancelled" as const, lastUpdatedAt: iso(Date.now()) };
      await this.store.set(r, Math.max(1, Date.parse(r.createdAt) + r.ttl - Date.now()));
      return r;
    }
    live.controller.abort(new DOMException("The task was cancelled", "AbortError"));
    await this.#finish(live, "cancelled", fields);
    return live.record;
  }

  /** 2026-07-28 `tasks/update`: hands the answers to the questions still open; others are ignored. */
  async update(id: unknown, responses: unknown, ctx: Context): Promise<void> {
    if (!isRecord(responses)) throw invalid("tasks/update needs an inputResponses object");
    const record = await this.find(id, ctx);
    const live = this.#live.get(record.taskId);
    // Final, nothing waits for answers any more; or run by another instance, which the bus tells.
    if (!live) return void (FINAL.has(record.status) || this.#tell(record, { op: "update", responses }));
    await this.#answer(live, responses);
  }

  async #answer(live: Live, responses: Record<string, unknown>): Promise<void> {
    for (const [key, value] of Object.entries(responses)) {
      const answer = live.answers.get(key);
      if (!answer || !isRecord(value)) continue;
      live.answers.delete(key);
      live.open--;
      answer(value);
    }
    const asked = { ...live.record.inputRequests };
    for (const key of Object.keys(asked)) if (!live.answers.has(key)) delete asked[key];
    await this.#status(live, live.open ? "input_required" : "working", { inputRequests: asked });
  }

  /** Whether another instance of the cluster runs the task. */
  #elsewhere(record: TaskRecord): boolean {
    const node = this.#cluster;
    const owner = ownerOf(record.taskId);
    return !!node && !!owner && owner !== node.id;
  }

  /** Hands an operation to the instance that runs the task, if that is another one and alive; says whether. */
  #tell(record: TaskRecord, msg: Record<string, unknown>): boolean {
    const owner = ownerOf(record.taskId);
    const node = this.#cluster;
    if (!owner || !node || !this.#elsewhere(record) || !node.alive(owner)) return false;
    node.sendTo(owner, { t: "task", id: record.taskId, ...msg })?.catch?.(() => {});
    return true;
  }

  /**
   * A tasks/update or tasks/cancel handed over by another instance, which found the task in the
   * shared store and checked the requester against it.
   */
  receive(m: Record<string, unknown>): void {
    const live = typeof m.id === "string" ? this.#live.get(m.id) : undefined;
    if (!live) return;
    if (m.op === "update" && isRecord(m.responses)) void this.#answer(live, m.responses);
    else if (m.op === "waiting") {
      live.awayWaiter = true;
      for (const ride of live.riders.splice(0)) ride(AWAY);
    } else if (m.op === "cancel") {
      live.controller.abort(new DOMException("The task was cancelled", "AbortError"));
      void this.#finish(live, "cancelled", {
        error: { code: ErrorCode.InvalidRequest, message: `Task ${live.record.taskId} was cancelled` },
        statusMessage: "The task was cancelled by request.",
      });
    }
  }

  #pause(ms: number, signal: AbortSignal): Promise<void> {
    return waitOn<void>((cb) => {
      const t = setTimeout(cb, ms);
      return () => clearTimeout(t);
    }, signal);
  }

  /** 2026-07-28: a question to the client, surfaced in the task's `inputRequests` until answered. */
  ask(live: Live, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const signal = live.controller.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    const key = `input-${live.nextKey++}`; // never reused within the task
    const answered = waitOn<Record<string, unknown>>(
      (cb) => (live.answers.set(key, cb), () => live.answers.delete(key)),
      signal,
    );
    live.open++;
    const inputRequests = { ...live.record.inputRequests, [key]: { method, params } };
    return this.#status(live, "input_required", { inputRequests }).then(() => answered);
  }

  /**
   * 2025-11-25: a request to the client from a task. The task shows `input_required` while it is
   * open; the request goes out on the stream of a waiting `tasks/result` (the client calls one when
   * it sees that status), so that over HTTP it reaches the client.
   */
  async input<T>(live: Live, send: (ride: Ride) => Promise<T>): Promise<T> {
    live.open++;
    try {
      await this.#status(live, "input_required");
      const signal = live.controller.signal;
      const ride = live.resultRequests.at(-1) ?? (live.awayWaiter ? AWAY : await waitOn<Ride>((cb) => {
        live.riders.push(cb);
        return () => live.riders.splice(live.riders.indexOf(cb) >>> 0, 1);
      }, signal));
      if (ride === AWAY) {
        throw new McpError(
          ErrorCode.InternalError,
          "The client waits for this task on another instance of the cluster; a task's questions reach only a " +
            "client that calls tasks/result on the instance that runs it",
        );
      }
      return await send(ride);
    } finally {
      if (--live.open === 0) await this.#status(live, "working");
    }
  }
}
