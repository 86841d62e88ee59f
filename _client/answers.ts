// The client's answers to the server: its requests on the socket (ping, sampling, elicitation, roots)
// and, under protocol 2026-07-28, the input requests of an `input_required` result, each through the
// handler given to connect(). What is being answered is aborted when the server cancels it or the
// connection goes.

import {
  ErrorCode,
  errorFrame,
  type JsonRpcErrorObject,
  type JsonRpcRequest,
  McpError,
  type RequestId,
  resultFrame,
} from "../jsonrpc.ts";
import type { CreateMessageParams } from "../types.ts";
import type { ConnectOptions, ElicitParams, HandlerContext } from "../client.ts";
import { McpClientError } from "./error.ts";
import { abortReason } from "./outbound.ts";

const OPEN = 1;

// The option that answers each kind of input request, for error messages.
const HANDLER_OPTION: Record<string, string> = {
  "sampling/createMessage": "onSample",
  "elicitation/create": "onElicit",
  "roots/list": "onListRoots",
};

function toErrorObject(err: unknown): JsonRpcErrorObject {
  if (err instanceof McpError) return err.toJSON();
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === "number" && Number.isInteger(e.code) && typeof e.message === "string") {
    return { code: e.code, message: e.message };
  }
  return { code: ErrorCode.InternalError, message: err instanceof Error ? err.message : String(err) };
}

/** What a client is answering, and how. */
export class Answers {
  #opts: ConnectOptions;
  // Requests from the server being answered, by id: notifications/cancelled aborts one.
  #incoming = new Map<RequestId, AbortController>();
  // Handlers answering input requests, aborted by close().
  #asking = new Set<AbortController>();

  constructor(opts: ConnectOptions) {
    this.#opts = opts;
  }

  /** A request from the server on `ws`: answered by its handler, or refused when there is none. */
  request(ws: WebSocket, msg: JsonRpcRequest): void {
    const { id, method } = msg;
    const params = msg.params ?? {};
    const send = (frame: string) => {
      if (ws.readyState === OPEN) ws.send(frame);
    };
    if (method === "ping") return send(resultFrame(id, {}));
    const run = this.#handlerFor(method, params);
    if (!run) {
      return send(errorFrame(id, { code: ErrorCode.MethodNotFound, message: `Method not found: ${method}` }));
    }
    const controller = new AbortController();
    this.#incoming.set(id, controller);
    Promise.resolve()
      .then(() => run({ signal: controller.signal, requestId: id }))
      .then(
        (result) => resultFrame(id, result ?? {}),
        (err) => errorFrame(id, toErrorObject(err)),
      )
      .then((frame) => {
        // A cancelled request gets no answer.
        if (this.#incoming.get(id) !== controller) return;
        this.#incoming.delete(id);
        send(frame);
      });
  }

  /** The server's `notifications/cancelled` for a request it sent. */
  cancel(id: RequestId, reason: unknown): void {
    const c = this.#incoming.get(id);
    if (!c) return;
    this.#incoming.delete(id);
    c.abort(new DOMException(typeof reason === "string" ? reason : "Cancelled by the server", "AbortError"));
  }

  /** The connection is gone: the server's requests can no longer be answered. */
  abortIncoming(err: Error): void {
    for (const c of this.#incoming.values()) c.abort(err);
    this.#incoming.clear();
  }

  /** The client closed: every handler still answering is aborted. */
  abortAll(err: Error): void {
    this.abortIncoming(err);
    for (const c of this.#asking) c.abort(err);
    this.#asking.clear();
  }

  /** The input requests of an `input_required` answer to `method`, one at a time (each may ask the user). */
  async answer(
    method: string,
    asked: [string, { method: string; params: Record<string, unknown> }][],
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const answers: Record<string, unknown> = {};
    for (const [key, req] of asked) {
      if (signal?.aborted) throw abortReason(signal);
      const run = this.#handlerFor(req.method, req.params);
      if (!run) {
        const option = HANDLER_OPTION[req.method];
        throw new McpClientError(
          ErrorCode.MethodNotFound,
          `The server asked for ${req.method} to answer ${method}, and this client has no handler for it${
            option ? ` (give ${option} to connect())` : " (give onRequest to connect())"
          }`,
          { inputRequest: key, method: req.method },
          method,
        );
      }
      const controller = new AbortController();
      const onAbort = () => controller.abort(abortReason(signal!));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#asking.add(controller);
      try {
        const stopped = new Promise<never>((_, reject) => {
          controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
        });
        stopped.catch(() => {});
        answers[key] = await Promise.race([run({ signal: controller.signal, requestId: key }), stopped]) ?? {};
      } finally {
        signal?.removeEventListener("abort", onAbort);
        this.#asking.delete(controller);
      }
    }
    return answers;
  }

  // The handler of a request from the server (or an input request), if the client has one.
  #handlerFor(method: string, params: Record<string, unknown>): ((ctx: HandlerContext) => unknown) | undefined {
    const o = this.#opts;
    if (method === "sampling/createMessage" && o.onSample) {
      const f = o.onSample;
      return (ctx) => f(params as CreateMessageParams, ctx);
    } else if (method === "elicitation/create" && o.onElicit) {
      const f = o.onElicit;
      return (ctx) => f(params as ElicitParams, ctx);
    } else if (method === "roots/list" && o.onListRoots) {
      const f = o.onListRoots;
      return async (ctx) => ({ roots: await f(ctx) });
    } else if (o.onRequest) {
      const f = o.onRequest;
      return (ctx) => f(method, params, ctx);
    }
    return undefined;
  }
}
