// The handler contexts of tasks, one per era, and the start of a task from the dispatcher. A task's
// handler runs detached from its request: its signal is the task's, and what it asks of the client
// waits for the client where each era puts it (2025-11-25: requests riding on a waiting
// tasks/result; per-request: the task's inputRequests, answered by tasks/update).

import type { JsonRpcRequest } from "../jsonrpc.ts";
import type {
  CreateMessageParams,
  CreateMessageResult,
  ElicitResult,
  InferOutput,
  LoggingLevel,
  Root,
  StandardSchemaV1,
} from "../types.ts";
import { Context } from "../context.ts";
import type { ClientRequestOptions } from "../session.ts";
import type { TaskRecord } from "../tasks.ts";
import type { ServerCore } from "../_core/core.ts";
import { FINAL, type Live, RELATED_TASK, type Ride, type TaskManager } from "../_core/tasks.ts";
import { PerRequestContext } from "./per_request_context.ts";
import { urlElicitParams } from "./elicitation.ts";
import { type ElicitUrlOptions, UrlElicitationRequiredError, type UrlElicitResult } from "../url_elicitation.ts";
import { levelRank } from "../_util/log_levels.ts";

// Runs of a per-request task's handler that may each end asking for pages to visit.
const MAX_URL_ROUNDS = 16;

/** The request a task's context stands for: the id, method and `_meta` of the call that started it. */
function requestOf(origin: Context): JsonRpcRequest {
  return {
    jsonrpc: "2.0",
    id: origin.requestId,
    method: origin.method,
    params: origin.meta ? { _meta: origin.meta } : undefined,
  };
}

/** Starts `run` as a task of the request of `ctx`, in the task context of its era. */
export function startTask(
  core: ServerCore,
  ctx: Context,
  ttl: unknown,
  run: (ctx: Context) => unknown,
): Promise<TaskRecord> {
  const tasks = core.tasks;
  if (ctx instanceof PerRequestContext) {
    return tasks.start(
      ctx,
      ttl,
      (live) => new PerRequestTaskContext(ctx, live, tasks),
      (c) => (c as PerRequestTaskContext).retryingUrls(() => run(c)),
    );
  }
  return tasks.start(ctx, ttl, (live) => new TaskContext(ctx, live, tasks), run);
}

/** The handler context of a 2025-11-25 task: the task's signal, and requests to the client that ride on tasks/result. */
class TaskContext extends Context {
  readonly #live: Live;
  readonly #tasks: TaskManager;
  #last = -Infinity;

  constructor(origin: Context, live: Live, tasks: TaskManager) {
    super(origin.session, requestOf(origin));
    (this as { auth: unknown }).auth = origin.auth; // the request's, whatever the session holds since
    this.#live = live;
    this.#tasks = tasks;
  }

  /** The task's id. */
  override get taskId(): string {
    return this.#live.record.taskId;
  }

  /** Aborted by `tasks/cancel` or when the task's time to live runs out; not by the connection closing. */
  override get signal(): AbortSignal {
    return this.#live.controller.signal;
  }

  #meta(): Record<string, unknown> {
    return { [RELATED_TASK]: { taskId: this.taskId } };
  }

  override progress(progress: number, total?: number, message?: string): void {
    const token = this.progressToken;
    if (token === undefined || FINAL.has(this.#live.record.status)) return;
    if (!(progress > this.#last)) {
      throw new RangeError(`progress must increase with every report (${progress} after ${this.#last})`);
    }
    this.#last = progress;
    const params: Record<string, unknown> = { progressToken: token, progress, _meta: this.#meta() };
    if (total !== undefined) params.total = total;
    if (message !== undefined) params.message = message;
    this.#notify("notifications/progress", params);
  }

  // On the stream of a waiting tasks/result if there is one, else as the session's own (an HTTP client's GET stream).
  #notify(method: string, params: Record<string, unknown>): void {
    const ride = this.#live.resultRequests.at(-1);
    if (ride) ride.session.notify(method, params, ride.id);
    else this.session.notify(method, params);
  }

  override log(level: LoggingLevel, data: unknown, logger?: string): void {
    const rank = levelRank(level);
    if (rank < 0) throw new RangeError(`unknown log level "${level}"`);
    const s = this.#live.resultRequests.at(-1)?.session ?? this.session;
    if (!s.ready || rank < levelRank(s.logLevel)) return;
    const params: Record<string, unknown> = logger === undefined ? { level, data } : { level, logger, data };
    params._meta = this.#meta();
    this.#notify("notifications/message", params);
  }

  #options(ride: Ride, options?: ClientRequestOptions): ClientRequestOptions {
    return { ...options, signal: this.signal, relatedTo: ride.id, _meta: { ...options?._meta, ...this.#meta() } };
  }

  // Requests to the client go on the session of the waiting tasks/result: the task's own may have closed.
  override sample(params: CreateMessageParams, options?: ClientRequestOptions): Promise<CreateMessageResult> {
    return this.#tasks.input(this.#live, (ride) => ride.session.sample(params, this.#options(ride, options)));
  }

  override elicit<S extends StandardSchemaV1>(
    message: string,
    schema: S,
    options?: ClientRequestOptions,
  ): Promise<ElicitResult<InferOutput<S>>> {
    return this.#tasks.input(
      this.#live,
      (ride) => ride.session.elicit(message, schema, this.#options(ride, options)),
    );
  }

  override elicitUrl(message: string, url: string, options?: ElicitUrlOptions): Promise<UrlElicitResult> {
    return this.#tasks.input(this.#live, (ride) => ride.session.elicitUrl(message, url, this.#options(ride, options)));
  }

  override listRoots(options?: ClientRequestOptions): Promise<Root[]> {
    return this.#tasks.input(this.#live, (ride) => ride.session.listRoots(this.#options(ride, options)));
  }
}

/**
 * The handler context of a 2026-07-28 task: the request's scope, the task's signal, and questions
 * to the client that wait in the task's inputRequests for tasks/update. The extension carries no
 * progress or log messages for tasks.
 */
class PerRequestTaskContext extends PerRequestContext {
  readonly #live: Live;
  readonly #tasks: TaskManager;

  constructor(origin: PerRequestContext, live: Live, tasks: TaskManager) {
    super(origin.session, requestOf(origin));
    (this as { auth: unknown }).auth = origin.auth;
    this.#live = live;
    this.#tasks = tasks;
  }

  override get signal(): AbortSignal {
    return this.#live.controller.signal;
  }

  override get taskId(): string {
    return this.#live.record.taskId;
  }

  override progress(): void {}

  override log(level: LoggingLevel): void {
    if (levelRank(level) < 0) throw new RangeError(`unknown log level "${level}"`);
  }

  protected override ask(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.#tasks.ask(this.#live, method, params);
  }

  /**
   * Runs `run`. The per-request era has no -32042: the pages a UrlElicitationRequiredError names
   * become the task's input requests, and once the client has answered them all `run` runs again
   * (as a retry would after input_required), up to {@linkcode MAX_URL_ROUNDS} times.
   */
  async retryingUrls(run: () => unknown): Promise<unknown> {
    for (let round = 1;; round++) {
      try {
        return await run();
      } catch (e) {
        if (!(e instanceof UrlElicitationRequiredError) || round >= MAX_URL_ROUNDS) throw e;
        await Promise.all(e.elicitations.map((el) => this.ask("elicitation/create", urlElicitParams(el, false))));
      }
    }
  }
}
