// Requests the server sends to the client (sampling, elicitation, roots, ping), matched to their
// answers by id, each with its timeout and abort signal.

import { ErrorCode, type JsonRpcErrorObject, McpError, requestFrame, type RequestId } from "../jsonrpc.ts";
import type { SendMeta } from "../channel.ts";
import { later } from "../_util/timers.ts";

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
  timer?: ReturnType<typeof setTimeout>;
  cleanup?: () => void;
}

export interface OutboundOptions {
  signal?: AbortSignal;
  timeout: number;
  relatedTo?: RequestId;
}

export class Outbound {
  #pending = new Map<RequestId, Pending>();
  #nextId = 0;

  /** `send` writes a frame; `cancelled` tells the client a request is abandoned. */
  constructor(
    private readonly send: (text: string, meta?: SendMeta) => void,
    private readonly cancelled: (id: RequestId, reason: string, relatedTo?: RequestId) => void,
  ) {}

  request(method: string, params: Record<string, unknown> | undefined, opts: OutboundOptions) {
    const { signal, relatedTo, timeout } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
    const id = ++this.#nextId;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const o: Pending = {
        resolve,
        reject,
        timer: later(() => {
          this.#pending.delete(id);
          o.cleanup?.();
          this.cancelled(id, "timed out", relatedTo);
          reject(
            new McpError(
              ErrorCode.RequestTimeout,
              `Request timed out: the client did not answer ${method} within ${timeout} ms`,
            ),
          );
        }, timeout),
      };
      if (signal) {
        const onAbort = () => {
          if (!this.#pending.delete(id)) return;
          clearTimeout(o.timer);
          this.cancelled(id, "cancelled by the server", relatedTo);
          reject(signal.reason ?? new Error("aborted"));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        o.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.#pending.set(id, o);
      this.send(requestFrame(id, method, params), relatedTo === undefined ? undefined : { relatedTo });
    });
  }

  /** Settles the request `id` with the client's answer; a late or unknown answer is ignored. */
  settle(id: RequestId, result?: Record<string, unknown>, error?: JsonRpcErrorObject): void {
    const o = this.#pending.get(id);
    if (!o) return; // the request already timed out or never existed
    this.#pending.delete(id);
    clearTimeout(o.timer);
    o.cleanup?.();
    if (error) {
      o.reject(
        new McpError(Number(error.code) || ErrorCode.InternalError, String(error.message ?? "error"), error.data),
      );
    } else o.resolve(result!);
  }

  /** Rejects every request still waiting (the connection closed). */
  rejectAll(err: Error): void {
    for (const o of this.#pending.values()) (clearTimeout(o.timer), o.cleanup?.(), o.reject(err));
    this.#pending.clear();
  }
}
